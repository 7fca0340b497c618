/* The driver of the generated table: fixtures, then every case; prints the number of cases. */
#undef g_sampler

static int setup(void) {
  for (int i = 0; i < 64; i++) {
    g_in[i] = 0.1 * (i % 7) - 0.3 + 0.013 * i;
    g_nan[i] = NAN;
  }
  /* The covariance-shaped inputs read g_in as 2 x 2: make that block symmetric positive definite,
     and the 4 x 4 cost block non-negative. */
  g_in[0] = 1.0, g_in[1] = 0.2, g_in[2] = 0.2, g_in[3] = 1.5;
  for (int i = 4; i < 16; i++) g_in[i] = 0.05 * i;
  snprintf(g_dual_path, sizeof g_dual_path, "%s/dual.scones", g_scratch);
  snprintf(g_score_path, sizeof g_score_path, "%s/score.scones", g_scratch);
  snprintf(g_map_path, sizeof g_map_path, "%s/map.scones", g_scratch);
  snprintf(g_spot_path, sizeof g_spot_path, "%s/spot.scones", g_scratch);
  size_t w[1] = {8};
  scones_matrix x = in_view(g_in, 16, 2);
  int bad = 0;
  bad |= scones_dual_options_new(&g_fast_dual, NULL);
  bad |= scones_dual_options_set_hidden(g_fast_dual, w, 1, NULL);
  bad |= scones_dual_options_set_batch(g_fast_dual, 8, SCONES_BATCH_ALL_PAIRS, NULL);
  bad |= scones_dual_options_set_iterations(g_fast_dual, 5, NULL);
  bad |= scones_train_options_new(&g_fast_train, NULL);
  bad |= scones_train_options_set_hidden(g_fast_train, w, 1, NULL);
  bad |= scones_train_options_set_batch_size(g_fast_train, 8, NULL);
  bad |= scones_train_options_set_iterations(g_fast_train, 5, NULL);
  bad |= scones_spot_options_new(&g_fast_spot, NULL);
  bad |= scones_spot_options_set_hidden(g_fast_spot, w, 1, w, 1, NULL);
  bad |= scones_spot_options_set_batch(g_fast_spot, 8, 5, NULL);
  bad |= scones_sampler_options_new(&g_fast_sampler, NULL);
  bad |= scones_sampler_options_set_steps(g_fast_sampler, 3, 0.01, NULL);
  bad |= scones_dual_train(&x, &x, g_fast_dual, &g_dual, NULL);
  bad |= scones_measure_new_points(&x, &g_measure, NULL);
  double mean[2] = {0, 0}, cov[4] = {1, 0, 0, 1};
  scones_matrix mu = scones_matrix_f64(mean, 1, 2), c = scones_matrix_f64(cov, 2, 2);
  bad |= scones_score_new_gaussian(&mu, &c, &g_score, NULL);
  bad |= scones_score_train(g_measure, g_fast_train, &g_trained_score, NULL);
  bad |= scones_barycentric_train(g_dual, g_measure, g_measure, g_fast_train, &g_map, NULL);
  bad |= scones_sampler_new(g_dual, g_score, g_fast_sampler, &g_sampler_fixture, NULL);
  double o[8];
  scones_matrix s4 = in_view(g_in, 4, 2);
  scones_matrix_mut om = scones_matrix_mut_f64(o, 4, 2);
  bad |= scones_sample_batch(g_sampler_fixture, &s4, &om, NULL);
  bad |= scones_figure_new(64, 64, 1, 1, &g_figure, NULL);
  bad |= scones_dual_save(g_dual, g_dual_path, NULL);
  bad |= scones_score_save(g_trained_score, g_score_path, NULL);
  bad |= scones_barycentric_save(g_map, g_map_path, NULL);
  bad |= scones_spot_train(&x, &x, g_fast_spot, &g_spot, NULL);
  bad |= scones_spot_save(g_spot, g_spot_path, NULL);
  return bad;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bad_inputs <scratch-dir> <torchscript-fixture>\n");
    return 2;
  }
  snprintf(g_scratch, sizeof g_scratch, "%s", argv[1]);
  snprintf(g_torchscript_path, sizeof g_torchscript_path, "%s", argv[2]);
  /* The cost module (dx = dy = 2) lies beside the score module. */
  const char *slash = strrchr(argv[2], '/');
  int dir_len = slash ? (int)(slash - argv[2] + 1) : 0;
  snprintf(g_cost_module_path, sizeof g_cost_module_path, "%.*scost_softplus.pt", dir_len, argv[2]);
  if (setup()) {
    fprintf(stderr, "bad_inputs: fixtures failed\n");
    return 1;
  }
  size_t n = sizeof g_cases / sizeof g_cases[0];
  for (size_t i = 0; i < n; i++) {
    const struct bad_case *c = &g_cases[i];
    g_case_fn = c->fn, g_case_param = c->param_name, g_case_kind = c->kind;
    int before = g_failures;
    scones_status st = c->run(c->param, c->kind);
    g_checks++;
    if (st != c->want && g_failures == before)
      CASE_FAIL("returned %s, expected %s", scones_status_name(st), scones_status_name(c->want));
    else if (st != c->want)
      CASE_FAIL("returned %s, expected %s", scones_status_name(st), scones_status_name(c->want));
  }
  printf("bad_inputs: %zu cases over %d exported functions (%d exempt)\n", n, g_exports_covered, g_exports_exempt);
  return finish("bad_inputs");
}
