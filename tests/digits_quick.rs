//! The digit super-resolution pipeline (examples/digits) in its quick setting, end to end: the
//! data prepared by scripts/prepare_digits.sh (scikit-learn in the cached torch environment),
//! a score, a dual and a barycentric map trained briefly, SCONES samples for the 300 held-out
//! sources, and bounds on the metrics that follow from the data rather than from a recorded run.

#[allow(dead_code)]
#[path = "../examples/digits/pipeline.rs"]
mod pipeline;

use pipeline::{Config, Digits};

/// Python is what prepares the data; a machine without python3 cannot run this test (and cannot
/// build scones' libtorch either, which the same cached environment provides). Anything else
/// that fails is a failure.
fn python_available() -> bool {
    std::process::Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn quick_super_resolution_beats_the_blurry_sources_and_keeps_the_digit() {
    if !python_available() {
        eprintln!("SKIPPED: digits_quick needs python3 to prepare the digits (scripts/prepare_digits.sh)");
        return;
    }
    let dir = pipeline::default_data_dir();
    pipeline::prepare(&dir).expect("preparing the digits");
    let d = Digits::load(&dir).expect("loading the prepared digits");
    let cfg = Config::quick();
    let rows = pipeline::run(&d, &cfg, &mut |line| eprintln!("{line}")).expect("the quick pipeline");
    let row = |method: &str| rows.iter().find(|r| r.method == method).unwrap_or_else(|| panic!("no row '{method}'"));
    let (truth, blurry, scones) = (row("true 8x8 images (floor)"), row("low-resolution sources"), row("SCONES"));
    for r in &rows {
        eprintln!("{}: FD {:.3}, class agreement {:.3}", r.method, r.frechet, r.agreement);
    }
    let n = d.test_label.len() as f64;

    // The classifier is what the agreement means: on the true images it must be far better than
    // chance (prepare_digits.py measured 0.957).
    assert!(truth.agreement > 0.9, "classifier accuracy {}", truth.agreement);
    // Real digits against other real digits: the Frechet distance is only finite-sample noise,
    // well below that of the blurry images, which is what super-resolution has to beat.
    assert!(truth.frechet < 0.25 * blurry.frechet, "floor {} vs blurry {}", truth.frechet, blurry.frechet);
    assert!(
        scones.frechet < blurry.frechet,
        "SCONES FD {} is no better than the unmodified low-resolution sources' {}",
        scones.frechet,
        blurry.frechet
    );
    // At the smallest lambda a sample keeps its source's digit: above the 1/10 of a random digit
    // by 5 binomial standard deviations over the 300 sources (samples of one source are not
    // independent, so the sources, not the samples, count).
    let chance = 1.0 / pipeline::CLASSES as f64;
    let margin = 5.0 * (chance * (1.0 - chance) / n).sqrt();
    assert!(
        scones.agreement > chance + margin,
        "class agreement {} vs chance {chance} + {margin:.3}",
        scones.agreement
    );
    assert_eq!(scones.images.nrows(), d.test_label.len() * cfg.k);
    assert!(scones.images.iter().all(|v| v.is_finite()));
}
