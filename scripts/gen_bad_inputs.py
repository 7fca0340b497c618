#!/usr/bin/env python3
"""Generates tests/c/bad_inputs.c, the table-driven bad-input test of issue 9 (item 5), from
include/scones.h, so that a new export cannot be forgotten.

Every exported function of the header is either covered (a valid baseline call is built from
the parameter types, then each parameter is broken in turn by every mutation its type admits)
or listed in EXEMPT with the reason. Cases come from the types, not from a hand list:

  any pointer               NULL (unless the header documents it as optional: NULLABLE)
  const scones_matrix *     zero rows, zero cols, rows x cols overflowing size_t, bad dtype, NaN
  const scones_matrix_mut * the same shape faults, and a self-overlapping (zero-stride) view
  arrays of output views    the faults above in the first view; the second with other rows
                            (SHAPE_MISMATCH) or a bad dtype
  arrays of handles         NULL, and a NULL second element
  double                    0, -1, NaN, +Inf, 1e308
  size_t / uint32 / uint64  0, all ones (-1 as unsigned), 2^40 (2^31 for uint32)
  C enums / int32 flags     -1 and 99
  size_t width arrays       a zero width and a width of 1e9 (must fail before allocating)
  report structs            struct_size 0 and larger than the library's
  scones_collective         struct_size 0 and larger, size 0, rank == size

The expected status of a case is INVALID_ARGUMENT (NON_FINITE for NaN data) unless EXPECT
says otherwise for that parameter; EXPECT entries are the values a parameter legitimately
accepts (seed-like counts, sigma = 0, ...) or a different exact status, each with its reason.

  scripts/gen_bad_inputs.py           rewrite tests/c/bad_inputs.c
  scripts/gen_bad_inputs.py --check   fail if the committed file is stale (run by tests/c_abi.rs)
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ROOT / "include" / "scones.h"
OUT = ROOT / "tests" / "c" / "bad_inputs.c"

# Exports with nothing to break: no pointer and no fallible status, or freeing functions whose
# NULL no-op and double-use contracts errors.c covers.
EXEMPT = {
    "scones_version": "no arguments",
    "scones_cuda_available": "no arguments",
    "scones_status_name": "total over int32: every value has a name ('unknown' otherwise); errors.c",
    "scones_error_code": "NULL is documented as OK (returns SCONES_STATUS_OK); errors.c",
    "scones_error_message": "NULL is documented as \"\"; errors.c",
}
FREE_SUFFIX = "_free"  # *_free(NULL) is a documented no-op (errors.c checks each one)

# Pointer parameters the header documents as optional (NULL means a default or "not wanted").
NULLABLE = {
    "options": "NULL selects the defaults",
    "source_weights": "NULL means uniform weights",
    "target_weights": "NULL means uniform weights",
    "plan": "the plan is optional",
    "report_out": "the report is optional",
    "user_data": "passed through to the callback untouched",
    "total_cost": "optional output of scones_assignment",
    "u": "optional output of scones_assignment",
    "v": "optional output of scones_assignment",
    ("scones_dual_load", "device"): "NULL means cpu",
    ("scones_discrete_options_set_progress", "callback"): "NULL removes the callback",
    ("scones_dual_options_set_progress", "callback"): "NULL removes the callback",
    ("scones_sampler_options_set_progress", "callback"): "NULL removes the callback",
    ("scones_train_options_set_progress", "callback"): "NULL removes the callback",
    ("scones_sampler_set_progress", "callback"): "NULL removes the callback",
    ("scones_spot_options_set_progress", "callback"): "NULL removes the callback",
    ("scones_spot_load", "device"): "NULL means cpu",
    ("scones_spot_dims", "dims"): "NULL asks for the count alone",
    ("scones_dual_options_set_collective", "collective"): "NULL trains alone again",
    ("scones_train_options_set_collective", "collective"): "NULL trains alone again",
}

OK = "SCONES_STATUS_OK"
SHAPE = "SCONES_STATUS_SHAPE_MISMATCH"
INVALID = "SCONES_STATUS_INVALID_ARGUMENT"

# (function or "*", parameter) -> {mutation: expected status}, with the reason.
EXPECT = {
    ("*", "seed"): ({"zero": OK, "neg": OK, "huge": OK}, "every seed is valid"),
    ("*", "rgba"): ({"zero": OK, "neg": OK, "huge": OK}, "every colour is valid"),
    ("*", "every"): ({"neg": OK, "huge": OK}, "an interval longer than the run reports only at the end"),
    ("*", "threads"): ({"zero": OK}, "0 leaves libtorch's setting as is"),
    ("*", "sigma_max"): ({"zero": OK, "huge": OK}, "0 = automatic; any finite sigma_max >= sigma_min is valid"),
    ("*", "sigma_first"): ({"huge": OK}, "any finite first level is valid"),
    ("*", "final_fraction"): ({"zero": OK}, "cosine decay to 0 is valid"),
    ("*", "beta1"): ({"zero": OK}, "Adam beta1 = 0 is valid"),
    ("*", "beta2"): ({"zero": OK}, "Adam beta2 = 0 is valid"),
    ("*", "lambda"): ({"huge": OK}, "any finite lambda > 0 is valid"),
    ("*", "curvature"): ({"huge": OK}, "any finite curvature bound > 0 is valid"),
    ("*", "learning_rate"): ({"huge": OK}, "any finite rate > 0 is accepted (training may diverge)"),
    ("*", "tol"): ({"huge": OK}, "any finite tolerance > 0 is valid"),
    ("*", "step_size"): ({"huge": OK}, "any finite step > 0 is accepted (sampling reports divergence)"),
    ("*", "beta_relative"): ({"huge": OK}, "any finite beta > 0 is valid"),
    ("*", "radius"): ({"zero": OK}, "a zero-radius dot draws nothing"),
    ("*", "iterations"): ({"zero": OK}, "0 iterations keeps the initialization"),
    ("*", "panel"): ({"zero": OK}, "panel 0 is the baseline's panel"),
    ("*", "sigma_start"): ({"zero": OK, "huge": OK},
                           "0 is automatic (3 x the last level); above the first level the chains move at every level"),
    ("*", "first_source_index"): ({"zero": OK, "huge": OK},
                                  "any global index is valid while index + n fits in 64 bits; -1 + n overflows"),
    ("scones_score_eval", "sigma"): ({"zero": OK, "huge": "SCONES_STATUS_NON_FINITE"},
                                     "sigma = 0 is the clean score; 1e308 overflows float32"),
    ("scones_gaussian_sample", "n"): ({"neg": SHAPE, "huge": SHAPE}, "n must equal the output's rows"),
    ("scones_toy_sample", "n"): ({"neg": SHAPE, "huge": SHAPE}, "n must equal the output's rows"),
    ("scones_discrete_fdual", "lambda"): ({"huge": "SCONES_STATUS_DIVERGED"},
                                          "lambda = 1e308 is in the domain but overflows the solver: reported"),
    ("scones_discrete_fdual_cost", "lambda"): ({"huge": "SCONES_STATUS_DIVERGED"},
                                               "as for scones_discrete_fdual: the dense form runs the same solver"),
    ("scones_sampler_options_set_annealing", "levels"): ({"zero": OK}, "0 switches annealing off"),
    ("scones_figure_set_bounds", "xmin"): ({"zero": OK, "neg": OK}, "0 and -1 lie below xmax = 1"),
    ("scones_figure_set_bounds", "ymin"): ({"zero": OK, "neg": OK}, "0 and -1 lie below ymax = 1"),
    ("scones_figure_set_bounds", "xmax"): ({"zero": OK, "huge": OK}, "any finite xmax > xmin = -1 is valid"),
    ("scones_figure_set_bounds", "ymax"): ({"zero": OK, "huge": OK}, "any finite ymax > ymin = -1 is valid"),
    ("scones_figure_legend", "n"): ({"zero": OK}, "an empty legend is valid"),
    ("scones_spot_options_set_latent_dim", "latent_dim"): ({"zero": OK}, "0 takes the largest marginal dimension"),
    ("scones_spot_options_set_penalty", "eta"): ({"zero": OK, "huge": OK}, "0 = automatic; any finite eta >= 0 is valid"),
    ("scones_spot_options_set_generator_ema", "decay"): ({"zero": OK}, "0 samples the last iterate"),
    ("scones_spot_dims", "capacity"): ({"zero": OK, "neg": OK, "huge": OK},
                                       "capacity only bounds the writes (the fixture's buffer holds 4 >= 2 marginals)"),
    ("scones_spot_sample", "count"): ({"zero": SHAPE},
                                      "0 views do not match the plan's 2 marginals; over 64 are refused unread"),
    ("scones_spot_options_set_entropy", "lambda"): ({"zero": OK, "huge": OK},
                                                    "0 turns the regularisation off; any finite lambda > 0 is valid"),
}


def parse_header(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"^\s*#.*$", "", text, flags=re.M)
    funcs = []
    for m in re.finditer(r"^([A-Za-z_][\w \*]*?)\s*\b(scones_\w+)\(([^;{]*?)\)\s*;", text, flags=re.M):
        ret, name, args = m.group(1).strip(), m.group(2), " ".join(m.group(3).split())
        params = []
        if args and args != "void":
            for a in args.split(","):
                a = a.strip()
                pm = re.match(r"(.*?)(\w+)$", a)
                params.append((pm.group(1).strip(), pm.group(2)))
        funcs.append((ret, name, params))
    return funcs


HANDLES = {
    "scones_dual": "g_dual",
    "scones_score": "g_score",
    "scones_sampler": "g_sampler",
    "scones_measure": "g_measure",
    "scones_barycentric": "g_map",
    "scones_figure": "g_figure",
    "scones_spot": "g_spot",
}
OPTIONS = ["dual", "sampler", "train", "discrete"]

# Baseline values of scalar parameters, by name (valid for every function that has them).
SCALARS = {
    "lambda": "1.0", "learning_rate": "1e-3", "beta1": "0.9", "beta2": "0.999", "final_fraction": "0.01",
    "batch_size": "8", "iterations": "5", "every": "1", "beta": "10.0", "tol": "1e-6",
    "max_iterations": "100", "beta_relative": "0.05", "inner_iterations": "1", "sigma_first": "1.0",
    "sigma_last": "0.1", "levels": "3", "denoise": "0", "steps_per_level": "3", "step_size": "0.01",
    "k": "1", "chains": "16", "sigma_max": "1.0", "sigma_min": "0.01", "enabled": "0", "seed": "7",
    "threads": "1", "n": "4", "d": "2", "projections": "10", "sigma": "0.5", "bandwidth": "0.5",
    "width": "64", "height": "64", "rows": "1", "cols": "1", "panel": "0", "rgba": "0xff0000ffu",
    "radius": "1.0", "xmin": "-1.0", "xmax": "1.0", "ymin": "-1.0", "ymax": "1.0",
    "phi_n": "1", "psi_n": "1",
    "count": "2", "capacity": "4", "n_generator": "1", "n_critic_layers": "1", "latent_dim": "2", "eta": "1.0",
    "n_critic": "5", "decay": "0.9", "steps": "4", "dx": "2", "dy": "2", "curvature": "2.0",
    "first_source_index": "0", "sigma_start": "0.0",
}
SCALAR_OVERRIDES = {("scones_figure_legend", "n"): "1", ("scones_dual_options_set_hidden", "n"): "1",
                    ("scones_train_options_set_hidden", "n"): "1"}
ENUM_TYPES = {"scones_regularizer", "scones_cost", "scones_lr_schedule", "scones_batch_mode", "scones_potential",
              "scones_spectrum", "scones_toy", "scones_chain_init", "scones_score_parametrization",
              "scones_spot_preset"}

# Input matrices: (rows, cols) by name, per function where the name is ambiguous.
MATRIX_IN = {"mean": (1, 2), "cov": (2, 2), "cov_source": (2, 2), "cov_target": (2, 2), "cov_estimate": (2, 2),
             "cov_reference": (2, 2), "cost": (4, 4),
             # weights read a separate buffer of four 0.25s (they must be > 0 and sum to 1)
             "source_weights": (1, 4, "g_weights"), "target_weights": (1, 4, "g_weights")}
# Enum baselines other than 0, where 0 would make the parameter under test unused.
ENUM_BASE = {("*", "schedule"): "SCONES_LR_COSINE"}
# Output matrices: (rows, cols) per function and name.
MATRIX_OUT = {
    ("scones_barycentric_map", "out"): (4, 2), ("scones_sinkhorn", "f"): (4, 1), ("scones_sinkhorn", "g"): (4, 1),
    ("scones_sinkhorn", "plan"): (4, 4), ("scones_ipot", "plan"): (4, 4), ("scones_discrete_fdual", "phi"): (4, 1),
    ("scones_discrete_fdual", "psi"): (4, 1), ("scones_discrete_fdual", "plan"): (4, 4),
    ("scones_sinkhorn_cost", "f"): (4, 1), ("scones_sinkhorn_cost", "g"): (4, 1), ("scones_sinkhorn_cost", "plan"): (4, 4),
    ("scones_ipot_cost", "plan"): (4, 4), ("scones_discrete_fdual_cost", "phi"): (4, 1),
    ("scones_discrete_fdual_cost", "psi"): (4, 1), ("scones_discrete_fdual_cost", "plan"): (4, 4),
    ("scones_assignment", "u"): (4, 1), ("scones_assignment", "v"): (4, 1), ("scones_dual_potential", "out"): (4, 1),
    ("scones_dual_compatibility", "out"): (4, 4), ("scones_gaussian_random_covariance", "out"): (2, 2),
    ("scones_gaussian_sample", "out"): (4, 2), ("scones_gaussian_entropic_coupling", "out"): (4, 4),
    ("scones_joint_covariance", "out"): (4, 4), ("scones_toy_sample", "out"): (4, 2),
    ("scones_sample_batch", "out"): (4, 2), ("scones_sample_batch_at", "out"): (4, 2), ("scones_score_eval", "out"): (4, 2),
}
# Arrays of output views (one per marginal): (count, rows, cols). The first view takes the slot of
# its parameter, the others the last slots of the output buffer.
MATRIX_OUT_ARRAYS = {("scones_spot_sample", "outs"): (2, 4, 2)}
# Arrays of handles: (count, fixture).
HANDLE_ARRAYS = {("scones_spot_train_measures", "marginals"): (2, "g_measure")}
# Output arrays of scalars longer than one element.
SCALAR_OUT_LEN = {("scones_assignment", "assignment"): 4, ("scones_spot_dims", "dims"): 4}
# Handles that a call must receive freshly made (it changes or consumes them).
FRESH = {("scones_sample_batch", "sampler"): "fresh_sampler()", ("scones_sample_batch_at", "sampler"): "fresh_sampler()",
         ("scones_sampler_set_progress", "sampler"): "fresh_sampler()",
         ("scones_score_save", "score"): "g_trained_score",
         ("scones_figure_save_png", "fig"): "g_figure"}
PATHS = {"scones_dual_load": "g_dual_path", "scones_score_load": "g_score_path",
         "scones_barycentric_load": "g_map_path", "scones_score_new_torchscript": "g_torchscript_path",
         "scones_spot_load": "g_spot_path", "scones_dual_options_set_torchscript_cost": "g_cost_module_path",
         "scones_spot_options_set_torchscript_cost": "g_cost_module_path"}
OPTIONS_FOR = {"scones_dual_train": "g_fast_dual", "scones_dual_train_measures": "g_fast_dual",
               "scones_score_train": "g_fast_train", "scones_barycentric_train": "g_fast_train",
               "scones_sampler_new": "g_fast_sampler", "scones_spot_train": "g_fast_spot",
               "scones_spot_train_measures": "g_fast_spot"}


def expectation(fn, pname, kind):
    for key in ((fn, pname), ("*", pname)):
        if key in EXPECT and kind in EXPECT[key][0]:
            return EXPECT[key][0][kind]
    if kind == "size_big":
        return OK  # a newer caller's longer struct: the library writes its own fields only
    if kind == "elem1_rows":
        return SHAPE  # every view of one sample must have the same rows
    return "SCONES_STATUS_NON_FINITE" if kind == "nan_data" else INVALID


def nullable(fn, pname):
    return (fn, pname) in NULLABLE or pname in NULLABLE


def gen_function(ret, fn, params):
    """C for one function: its baseline arguments, mutations and checks; and its case rows."""
    decl, args, cases, post, outs = [], [], [], [], []
    for i, (ty, pn) in enumerate(params):
        v = f"a{i}"
        base = ty.replace("const ", "").replace("struct ", "").strip()
        if pn == "err" and "scones_error" in ty:
            args.append("&err")
            continue
        if base == "scones_matrix *":
            r, c, buf = (MATRIX_IN.get(pn, (4, 2)) + ("g_in",))[:3]
            decl.append(f"scones_matrix {v}_m = in_view({buf}, {r}, {c}); const scones_matrix *{v} = &{v}_m;")
            for k in ["zero_rows", "zero_cols", "overflow", "dtype", "nan_data"]:
                cases.append((i, pn, k))
        elif base == "scones_matrix_mut *" and (fn, pn) in MATRIX_OUT_ARRAYS:
            n, r, c = MATRIX_OUT_ARRAYS[(fn, pn)]
            views = ", ".join([f"out_view({i}, {r}, {c})"] + [f"out_view({15 - k}, {r}, {c})" for k in range(n - 1)])
            decl.append(f"scones_matrix_mut {v}_a[{n}] = {{{views}}}; const scones_matrix_mut *{v} = {v}_a;")
            for k in ["zero_rows", "zero_cols", "overflow", "dtype", "overlap", "elem1_rows", "elem1_dtype"]:
                cases.append((i, pn, k))
        elif "*const *" in ty and base[:-2].strip() in HANDLES:
            n, fixture = HANDLE_ARRAYS[(fn, pn)]
            h = base[:-2].strip()
            decl.append(f"const {h} *{v}_a[{n}] = {{{', '.join([fixture] * n)}}}; const {h} *const *{v} = {v}_a;")
            cases.append((i, pn, "elem1_null"))
        elif base == "scones_matrix_mut *":
            r, c = MATRIX_OUT[(fn, pn)]
            decl.append(f"scones_matrix_mut {v}_m = out_view({i}, {r}, {c}); const scones_matrix_mut *{v} = &{v}_m;")
            for k in ["zero_rows", "zero_cols", "overflow", "dtype"] + (["overlap"] if r * c > 1 else []):
                cases.append((i, pn, k))
        elif base.endswith("**") and base[:-2].strip() in HANDLES:
            h = base[:-2].strip()
            decl.append(f"{h} *{v}_h = ({h} *)SENTINEL_PTR; {h} **{v} = &{v}_h;")
            post.append(f"if (st == SCONES_STATUS_OK) {h}_free({v}_h); else CHECK_UNTOUCHED({v}_h == ({h} *)SENTINEL_PTR);")
        elif base.endswith("**") and base[:-2].strip().endswith("_options"):
            h = base[:-2].strip()
            decl.append(f"{h} *{v}_h = ({h} *)SENTINEL_PTR; {h} **{v} = &{v}_h;")
            post.append(f"if (st == SCONES_STATUS_OK) {h}_free({v}_h); else CHECK_UNTOUCHED({v}_h == ({h} *)SENTINEL_PTR);")
        elif base.endswith("*") and base[:-1].strip() in HANDLES:
            h = base[:-1].strip()
            src = FRESH.get((fn, pn), HANDLES[h])
            decl.append(f"{h} *{v} = {src};")
            if src.startswith("fresh_"):
                post.append(f"if ({v}) {h}_free({v});")
        elif base.endswith("_options *"):
            h = base[:-1].strip()
            if "const" in ty:
                decl.append(f"const {h} *{v} = {OPTIONS_FOR.get(fn, 'NULL')};")
            else:
                decl.append(f"{h} *{v} = NULL; {h}_new(&{v}, NULL);")
                post.append(f"{h}_free({v});")
        elif base == "scones_collective *":
            decl.append(f"scones_collective {v}_c = {{sizeof(scones_collective), 0, 1, cb_allreduce, NULL}}; "
                        f"const scones_collective *{v} = &{v}_c;")
            for k in ["size0", "size_big", "zero", "huge"]:
                cases.append((i, pn, k))
        elif base.endswith("_report *"):
            h = base[:-1].strip()
            decl.append(f"REPORT({h}, {v});")
            post.append(f"CHECK_REPORT({v}, st, {v}_size0);")
            for k in ["size0", "size_big"]:
                cases.append((i, pn, k))
        elif base == "char *":
            if pn == "path":
                src = PATHS.get(fn, "scratch_path(\"out.bin\")")
            elif pn == "device":
                src = '"cpu"'
            else:
                src = '"label"'
            decl.append(f"const char *{v} = {src};")
        elif base in ("char *const *", "char **"):
            decl.append(f"const char *const *{v} = g_labels;")
        elif base == "uint32_t *" and "const" in ty:
            decl.append(f"const uint32_t *{v} = g_colors;")
        elif base == "size_t *" and "const" in ty:
            decl.append(f"size_t {v}_w[1] = {{8}}; const size_t *{v} = {v}_w;")
            for k in ["width0", "width1e9"]:
                cases.append((i, pn, k))
        elif base.endswith("*") and base[:-1].strip() in ("size_t", "double", "scones_regularizer", "scones_cost"):
            t = base[:-1].strip()
            n = SCALAR_OUT_LEN.get((fn, pn), 1)
            decl.append(f"{t} {v}_s[{n}]; fill_bytes({v}_s, sizeof {v}_s); {t} *{v} = {v}_s;")
            post.append(f"if (st != SCONES_STATUS_OK) CHECK_UNTOUCHED(bytes_untouched({v}_s, sizeof {v}_s));")
        elif base.endswith("_fn"):
            decl.append(f"{base} {v} = cb_{base[len('scones_'):-3]};")
        elif base == "void *":
            decl.append(f"void *{v} = NULL;")
        elif base in ENUM_TYPES or base == "int32_t":
            val = ENUM_BASE.get((fn, pn), ENUM_BASE.get(("*", pn), "0"))
            decl.append(f"{base} {v} = {val};")
            for k in ["enum_neg", "enum_big"]:
                cases.append((i, pn, k))
        elif base in ("double", "size_t", "uint32_t", "uint64_t"):
            val = SCALAR_OVERRIDES.get((fn, pn), SCALARS.get(pn))
            if val is None:
                raise SystemExit(f"{fn}: no baseline value for scalar parameter {pn} ({ty})")
            decl.append(f"{base} {v} = {val};")
            kinds = ["zero", "neg", "nan", "inf", "huge"] if base == "double" else ["zero", "neg", "huge"]
            for k in kinds:
                cases.append((i, pn, k))
        else:
            raise SystemExit(f"{fn}: parameter {pn} has a type the generator does not know: {ty}")
        if "*" in base and not nullable(fn, pn):
            cases.append((i, pn, "null"))
        if not (base == "scones_error **"):
            args.append(v)
    body = [f"static scones_status t_{fn[len('scones_'):]}(int p, int kind) {{"]
    body.append("  scones_error *err = (scones_error *)SENTINEL_PTR;")
    body += ["  " + d for d in decl]
    body.append("  switch (p) {")
    for i, (ty, pn) in enumerate(params):
        if pn == "err":
            continue
        body.append(f"  case {i}: MUTATE(a{i}, kind); break;")
    body.append("  default: break;")
    body.append("  }")
    for i, (ty, pn) in enumerate(params):
        if ty.replace("const ", "").replace("struct ", "").strip().endswith("_report *"):
            body.append(f"  size_t a{i}_size0 = a{i} ? a{i}->struct_size : 0;")
    body.append("  fill_outputs();")
    body.append(f"  scones_status st = {fn}({', '.join(args)});")
    body.append("  check_result(st, err);")
    body += ["  " + p for p in post]
    body.append("  if (st != SCONES_STATUS_OK) CHECK_UNTOUCHED(outputs_untouched());")
    body.append("  scones_error_free(err == (scones_error *)SENTINEL_PTR ? NULL : err);")
    body.append("  return st;")
    body.append("}")
    rows = [f'  {{t_{fn[len("scones_"):]}, "{fn}", -1, "{""}", K_NONE, {OK}}},']
    for i, pn, k in cases:
        rows.append(f'  {{t_{fn[len("scones_"):]}, "{fn}", {i}, "{pn}", K_{k.upper()}, {expectation(fn, pn, k)}}},')
    return "\n".join(body), rows


def generate():
    funcs = parse_header(HEADER.read_text())
    parts, rows, covered, exempt = [], [], [], []
    for ret, fn, params in funcs:
        if fn in EXEMPT or fn.endswith(FREE_SUFFIX):
            exempt.append(fn)
            continue
        if ret != "scones_status":
            raise SystemExit(f"{fn} returns {ret}: cover it or add it to EXEMPT with the reason")
        body, r = gen_function(ret, fn, params)
        parts.append(body)
        rows += r
        covered.append(fn)
    out = [
        "/* GENERATED by scripts/gen_bad_inputs.py from include/scones.h; do not edit.",
        f" * {len(covered)} functions covered, {len(exempt)} exempt (see EXEMPT and *_free in the script),",
        f" * {len(rows)} cases. */",
        '#include "bad_inputs_support.h"',
        "",
    ]
    out += parts
    out += ["", "static const struct bad_case g_cases[] = {"] + rows + ["};", ""]
    out.append(f"static const int g_exports_covered = {len(covered)}, g_exports_exempt = {len(exempt)};")
    out.append('#include "bad_inputs_main.h"')
    return "\n".join(out) + "\n"


def main():
    text = generate()
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text() != text:
            sys.exit(f"{OUT} is stale: run scripts/gen_bad_inputs.py (a new export needs a case or an exemption)")
        return
    OUT.write_text(text)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
