//! External costs (issue 13 item 4) against known answers: a TorchScript module computing the
//! linear cost |A y - B x|^2 against the built-in `Cost::linear` with the same A and B (values,
//! y-gradient, a trained dual, a saved dual), and a non-quadratic module (sum_k softplus(y_k -
//! x_k)^2) against central differences of its own values and Sinkhorn on its dense matrix.
//! Fixtures: scripts/make_cost_fixtures.py.

use std::path::{Path, PathBuf};

use scones::discrete::sinkhorn::{sinkhorn_dense, sinkhorn_points, SinkhornConfig};
use scones::neural::dual::{self, BatchMode, DualConfig, DualPotentials};
use scones::ot::measure::Empirical;
use scones::ot::{Cost, Divergence, Regularizer};
use scones::runtime::progress;
use scones::runtime::rng::Rng64;
use tch::{Device, Kind, Tensor};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn fixture_json() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("cost_fixtures.json")).unwrap()).unwrap()
}

fn matrix(v: &serde_json::Value) -> (Vec<f64>, usize, usize) {
    let rows = v.as_array().unwrap();
    let cols = rows[0].as_array().unwrap().len();
    (rows.iter().flat_map(|r| r.as_array().unwrap().iter().map(|e| e.as_f64().unwrap())).collect(), rows.len(), cols)
}

fn tensor(v: &serde_json::Value) -> Tensor {
    let (data, r, c) = matrix(v);
    Tensor::from_slice(&data).view([r as i64, c as i64])
}

fn builtin_linear() -> Cost {
    let j = fixture_json();
    let ((a, k, dy), (b, _, dx)) = (matrix(&j["A"]), matrix(&j["B"]));
    Cost::linear(&a, &b, k, dx, dy).unwrap()
}

fn max_abs(a: &Tensor, b: &Tensor) -> f64 {
    (a.to_kind(Kind::Double) - b.to_kind(Kind::Double)).abs().max().double_value(&[])
}

/// Central differences of `cost` in y_j at each pair, in float64 (the module rounds to float32:
/// the step h = 1e-2 keeps that rounding, ~1e-7 |c| / h, under 1e-4 here).
fn central_differences(cost: &Cost, x: &Tensor, y: &Tensor) -> Tensor {
    let h = 1e-2;
    let dy = y.size()[1];
    let cols: Vec<Tensor> = (0..dy)
        .map(|j| {
            let e = Tensor::zeros([1, dy], (Kind::Double, Device::Cpu)).index_fill(1, &Tensor::from_slice(&[j]), h);
            (cost.paired(x, &(y + &e)).unwrap() - cost.paired(x, &(y - &e)).unwrap()) / (2.0 * h)
        })
        .collect();
    Tensor::stack(&cols, 1)
}

#[test]
fn torchscript_linear_cost_equals_the_builtin_linear_cost() {
    let j = fixture_json();
    let module = Cost::torchscript(&fixture("cost_linear.pt"), 2, 3, 2.0).unwrap();
    let builtin = builtin_linear();
    assert_eq!(module.name(), "torchscript");
    assert!(module.check_dims(2, 3).is_ok() && module.check_dims(3, 2).is_err());
    // PyTorch's own values on the fixture's pairs.
    let want = Tensor::from_slice(
        &j["linear_values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>(),
    );
    let got = module.paired(&tensor(&j["x"]), &tensor(&j["y_linear"])).unwrap();
    assert!(max_abs(&got, &want) < 1e-5 * (1.0 + want.abs().max().double_value(&[])), "{got:?} vs {want:?}");

    // Values on all pairs and the y-gradient, float32 as training uses them: agreement to
    // float32 rounding of values of size ~30.
    let mut rng = Rng64::new(1);
    let x = rng.normal_tensor(&[40, 2], Kind::Float, Device::Cpu).unwrap() * 2.0;
    let y = rng.normal_tensor(&[50, 3], Kind::Float, Device::Cpu).unwrap() * 2.0;
    let (pm, pb) = (module.pairwise(&x, &y).unwrap(), builtin.pairwise(&x, &y).unwrap());
    let scale = pb.abs().max().double_value(&[]);
    assert!(max_abs(&pm, &pb) < 1e-5 * scale, "pairwise: {} of {scale}", max_abs(&pm, &pb));
    let y40 = y.narrow(0, 0, 40);
    let (gm, gb) = (module.grad_y(&x, &y40).unwrap(), builtin.grad_y(&x, &y40).unwrap());
    assert_eq!(gm.size(), [40, 3]);
    let gscale = gb.abs().max().double_value(&[]);
    assert!(max_abs(&gm, &gb) < 1e-5 * gscale, "grad_y: {} of {gscale}", max_abs(&gm, &gb));
    let fd = central_differences(&module, &x.to_kind(Kind::Double), &y40.to_kind(Kind::Double));
    assert!(max_abs(&gm, &fd) < 1e-3 * (1.0 + gscale), "grad_y vs central differences: {}", max_abs(&gm, &fd));
    // The same module refuses pairs of other dimensions.
    assert!(module.paired(&x, &x).is_err());
}

fn train(cost: Cost, x: &Tensor, y: &Tensor) -> DualPotentials {
    let mut cfg = DualConfig::new(Regularizer::new(Divergence::Kl, 1.0).unwrap());
    cfg.cost = cost;
    cfg.phi_hidden = vec![32, 32];
    cfg.psi_hidden = vec![32, 32];
    cfg.batch_mode = BatchMode::AllPairs;
    cfg.optim.batch_size = x.size()[0] as usize;
    cfg.optim.iterations = 200;
    cfg.optim.seed = 3;
    let device = cfg.optim.device;
    dual::train(
        &cfg,
        &mut Empirical::new(x, device).unwrap().full_batches(),
        &mut Empirical::new(y, device).unwrap().full_batches(),
        &mut progress::ignore,
    )
    .unwrap()
    .0
}

#[test]
fn a_dual_trained_with_the_module_matches_one_trained_with_the_builtin_cost_and_survives_a_file() {
    tch::set_num_threads(1);
    let mut rng = Rng64::new(2);
    let x = rng.normal_tensor(&[48, 2], Kind::Float, Device::Cpu).unwrap();
    let y = rng.normal_tensor(&[48, 3], Kind::Float, Device::Cpu).unwrap();
    // The module from a copy that is deleted before the reload: the saved dual carries it.
    let dir = std::env::temp_dir().join(format!("scones-extcost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("cost.pt");
    std::fs::copy(fixture("cost_linear.pt"), &copy).unwrap();
    let module = Cost::torchscript(&copy, 2, 3, 2.0).unwrap();
    let with_module = train(module, &x, &y);
    let with_builtin = train(builtin_linear(), &x, &y);
    let (cm, cb) = (with_module.compatibility(&x, &y).unwrap(), with_builtin.compatibility(&x, &y).unwrap());
    // Same seed, same batches: the runs differ only by float32 rounding of the cost (the module
    // sums (A y - B x)^2 per pair, the built-in expands |Ay|^2 + |Bx|^2 - 2 Ay.Bx), which 200
    // Adam steps carry into the networks. l1 of the pseudo-plans M / n^2, each of mass ~1.
    let n2 = (48 * 48) as f64;
    let l1 = (&cm - &cb).abs().sum(Kind::Double).double_value(&[]) / n2;
    println!("l1(pseudo-plan with module, with built-in) = {l1:.2e}");
    assert!(l1 < 1e-5, "l1 {l1}");

    let path = dir.join("dual.scones");
    with_module.save(&path).unwrap();
    std::fs::remove_file(&copy).unwrap();
    let back = DualPotentials::load(&path, Device::Cpu).unwrap();
    assert_eq!(back.cost.name(), "torchscript");
    assert_eq!(back.compatibility(&x, &y).unwrap(), cm);
    let (pb, pm) = (back.cost.pairwise(&x, &y).unwrap(), with_module.cost.pairwise(&x, &y).unwrap());
    assert_eq!(pb, pm, "the reloaded module computes other values");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_non_quadratic_module_has_its_own_gradient_and_sinkhorn_equals_its_dense_matrix() {
    let j = fixture_json();
    let c = Cost::torchscript(&fixture("cost_softplus.pt"), 2, 2, 4.0).unwrap();
    let want = Tensor::from_slice(
        &j["softplus_values"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect::<Vec<_>>(),
    );
    let got = c.paired(&tensor(&j["x"]), &tensor(&j["y_softplus"])).unwrap();
    assert!(max_abs(&got, &want) < 1e-5 * (1.0 + want.abs().max().double_value(&[])));
    // Not the squared cost: softplus(t)^2 differs from t^2, and c(x, y) != c(y, x).
    let mut rng = Rng64::new(4);
    let x = rng.normal_tensor(&[30, 2], Kind::Double, Device::Cpu).unwrap();
    let y = rng.normal_tensor(&[30, 2], Kind::Double, Device::Cpu).unwrap();
    assert!(max_abs(&c.paired(&x, &y).unwrap(), &c.paired(&y, &x).unwrap()) > 0.1);
    let g = c.grad_y(&x, &y).unwrap();
    let fd = central_differences(&c, &x, &y);
    // Central differences err by h^2 |c'''| / 6 ~ 1e-4 at h = 1e-2, plus float32 rounding.
    assert!(max_abs(&g, &fd) < 1e-3, "grad_y vs central differences: {}", max_abs(&g, &fd));

    // Sinkhorn forms the module's blocks row by row; on the dense matrix of the same values it
    // must find the same plan.
    let y40 = rng.normal_tensor(&[40, 2], Kind::Double, Device::Cpu).unwrap();
    let dense = c.pairwise(&x, &y40).unwrap();
    let mut cfg = SinkhornConfig::new(0.05);
    cfg.return_plan = true;
    cfg.tol = 1e-9;
    cfg.block_rows = Some(7);
    let by_rows = sinkhorn_points(c.clone(), &x, &y40, None, None, &cfg, &mut progress::ignore).unwrap();
    let on_dense = sinkhorn_dense(&dense, None, None, &cfg, &mut progress::ignore).unwrap();
    let (p1, p2) = (by_rows.plan.unwrap(), on_dense.plan.unwrap());
    let l1 = (&p1 - &p2).abs().sum(Kind::Double).double_value(&[]);
    println!("softplus cost: l1(Sinkhorn by rows, on the dense matrix) = {l1:.2e}");
    assert!(l1 < 1e-9, "l1 {l1}");
    assert!((by_rows.transport_cost - on_dense.transport_cost).abs() < 1e-9);
}

#[test]
fn bad_modules_and_curvatures_are_refused() {
    // Wrong dimensions for the module (its matmul fails), a file that is not a module, a
    // non-positive curvature bound.
    assert!(Cost::torchscript(&fixture("cost_linear.pt"), 3, 3, 2.0).is_err());
    assert!(Cost::torchscript(&fixture("cost_fixtures.json"), 2, 3, 2.0).is_err());
    assert!(Cost::torchscript(&fixture("cost_linear.pt"), 2, 3, 0.0).is_err());
    assert!(Cost::torchscript(&fixture("cost_linear.pt"), 2, 3, f64::NAN).is_err());
    assert!(Cost::torchscript(&fixture("no-such-file.pt"), 2, 3, 2.0).is_err());
    // A score module (two inputs, [n, d] output) is not a cost: its output shape is refused.
    assert!(Cost::torchscript(&fixture("score_module.pt"), 2, 1, 2.0).is_err());
}

/// SPOT differentiates the plan cost through the module into the generator: with the same seed,
/// a plan trained under the module computing |A y - B x|^2 follows the one trained under the
/// built-in linear cost (a module whose output did not carry the gradient would leave the
/// generator to the critics alone and drift far from it).
#[test]
fn spot_trains_through_a_torchscript_cost() {
    use ndarray::Array2;
    use scones::{Spot, SpotOptions};
    tch::set_num_threads(1);
    let x = Array2::from_shape_fn((400, 2), |(i, j)| ((i * 7 + j * 3) % 17) as f64 / 8.0 - 1.0);
    let y = Array2::from_shape_fn((400, 3), |(i, j)| ((i * 5 + j * 11) % 13) as f64 / 6.0 - 1.0);
    let options =
        |cost: Cost| SpotOptions::new().cost(cost).hidden(&[16], &[16]).batch_size(64).iterations(40).threads(1);
    let module = Cost::torchscript(&fixture("cost_linear.pt"), 2, 3, 2.0).unwrap();
    let with_module = Spot::train(&x, &y, &options(module)).unwrap();
    let with_builtin = Spot::train(&x, &y, &options(builtin_linear())).unwrap();
    let (a, b) = (with_module.sample(200, 1).unwrap(), with_builtin.sample(200, 1).unwrap());
    let diff = a.iter().zip(&b).map(|(p, q)| (p - q).mapv(f64::abs).fold(0.0f64, |m, v| m.max(*v))).fold(0.0, f64::max);
    let (c1, _) = with_module.cost_estimate(2000, 3).unwrap();
    let (c2, _) = with_builtin.cost_estimate(2000, 3).unwrap();
    println!("SPOT, module vs built-in linear cost: max sample difference {diff:.2e}, plan costs {c1:.4} / {c2:.4}");
    assert!(diff < 1e-3, "max sample difference {diff}");
}
