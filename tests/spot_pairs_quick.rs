//! examples/spot_pairs.rs (the thesis' Fig. 3.6, SPOT's paired samples) in its `--quick`
//! setting: the two figures are real PNGs and the JSON carries finite numbers whose meaning
//! can be checked without a recorded run.

#[allow(dead_code)]
#[path = "../examples/spot_pairs.rs"]
mod spot_pairs;

use spot_pairs::{Case, Config};

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

fn number(case: &serde_json::Value, key: &str) -> f64 {
    let v = case[key].as_f64().unwrap_or_else(|| panic!("{}: '{key}' is not a number", case["case"]));
    assert!(v.is_finite(), "{}: {key} = {v}", case["case"]);
    v
}

#[test]
fn quick_pairs_write_figures_and_pair_upper_mass_with_upper_mass() {
    let dir = std::env::temp_dir().join(format!("scones-spot-pairs-{}", std::process::id()));
    let cfg = Config { out_dir: dir.clone(), ..Config::quick() };
    spot_pairs::run(&cfg).expect("the quick run");

    for case in Case::ALL {
        let bytes = std::fs::read(dir.join(format!("{}.png", case.name()))).expect("the figure");
        // A blank 800x600 frame with axes alone compresses to a few KB; scatters make it larger.
        assert!(bytes.len() > 1024, "{}: {} bytes", case.name(), bytes.len());
        assert_eq!(bytes[..8], PNG_SIGNATURE, "{} is not a PNG", case.name());
    }
    let text = std::fs::read_to_string(dir.join("spot_pairs.json")).expect("the JSON");
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let cases = json["cases"].as_array().expect("a list of cases");
    assert_eq!(cases.len(), Case::ALL.len());
    for c in cases {
        for key in ["cost_estimate", "discrete_cost", "second_coordinate_correlation", "train_seconds"] {
            number(c, key);
        }
        assert!(number(c, "cost_standard_error") > 0.0);
        for m in ["x", "y"] {
            assert!(number(c, &format!("sliced_w2_{m}")) > 0.0);
            assert!(number(c, &format!("sliced_w2_floor_{m}")) > 0.0);
        }
    }
    let a = &cases[0];
    assert_eq!(a["case"], Case::Gaussians.name());
    // The optimal plan is the translation by (5, 0) (correlation 1, cost 25); the independent
    // coupling has correlation 0 and cost 25 + 2 + 2 = 29. Seeds 0-3 gave 0.97-0.99 and 24.8-26.0.
    let corr = number(a, "second_coordinate_correlation");
    assert!(corr > 0.0, "case (a): the second coordinates of G_X and G_Y correlate by {corr}");
    let (cost, se) = (number(a, "cost_estimate"), number(a, "cost_standard_error"));
    assert!((cost - 25.0).abs() < 2.0 + 3.0 * se, "case (a): cost {cost} +- {se} is nearer the independent 29 than 25");
    std::fs::remove_dir_all(&dir).ok();
}
