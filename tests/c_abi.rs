//! C ABI tests: C (and one C++) programs under tests/c, compiled with the system compiler
//! against include/scones.h and the built libscones.so, run as child processes. A crash or an
//! abort in the library would kill the child and fail the test; the programs check statuses,
//! messages and outputs themselves and exit non-zero on any failed check.

use std::path::{Path, PathBuf};
use std::process::Command;

/// target/<profile>, found from this test binary's path (target/<profile>/deps/c_abi-...).
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Makes sure libscones.so and its soname link exist (cargo test builds the cdylib alongside).
fn ensure_library() -> PathBuf {
    let dir = lib_dir();
    let so = dir.join("libscones.so");
    assert!(so.exists(), "{} is missing: build the library first (make build)", so.display());
    let soname = dir.join("libscones.so.0");
    if std::fs::symlink_metadata(&soname).is_err() {
        let _ = std::os::unix::fs::symlink("libscones.so", &soname);
    }
    dir
}

fn scratch(name: &str) -> PathBuf {
    let d = lib_dir().join("c-tests").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn compile(source: &str, cxx: bool, extra: &[&str]) -> PathBuf {
    let dir = ensure_library();
    let src = manifest_dir().join("tests/c").join(source);
    let out = lib_dir().join("c-tests").join(source.replace('.', "_"));
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let compiler = if cxx {
        std::env::var("CXX").unwrap_or_else(|_| "c++".into())
    } else {
        std::env::var("CC").unwrap_or_else(|_| "cc".into())
    };
    let std_flag = if cxx { "-std=c++17" } else { "-std=c11" };
    let mut cmd = Command::new(&compiler);
    cmd.arg(std_flag)
        .args(["-O1", "-g", "-Wall", "-Wextra", "-Werror", "-D_POSIX_C_SOURCE=200809L"])
        .arg(format!("-I{}", manifest_dir().join("include").display()))
        .arg(&src)
        .arg(format!("-L{}", dir.display()))
        .arg("-lscones")
        .arg(format!("-Wl,-rpath,{}", dir.display()))
        .args(extra)
        .arg("-lm")
        .arg("-o")
        .arg(&out);
    let res = cmd.output().unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(
        res.status.success(),
        "compiling {source} failed:\n{}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    out
}

fn run(exe: &Path, args: &[&Path]) -> String {
    let res = Command::new(exe).args(args).env("SCONES_TEST_VERBOSE", "1").output().unwrap();
    let stdout = String::from_utf8_lossy(&res.stdout).to_string();
    let stderr = String::from_utf8_lossy(&res.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(res.status.success(), "{} exited with {:?}", exe.display(), res.status);
    stdout
}

#[test]
fn c_error_paths() {
    let exe = compile("errors.c", false, &[]);
    let out = run(&exe, &[&scratch("errors")]);
    assert!(out.contains("errors: all"), "{out}");
}

#[test]
fn c_gaussian_pipeline() {
    let exe = compile("pipeline.c", false, &["-pthread"]);
    let out = run(&exe, &[&scratch("pipeline")]);
    assert!(out.contains("pipeline: all"), "{out}");
}

#[test]
fn c_compatibility_tempering() {
    let exe = compile("tempering.c", false, &[]);
    assert!(run(&exe, &[]).contains("tempering: all"));
}

#[test]
fn c_sharded_sampling_matches_one_call() {
    let exe = compile("sharded.c", false, &[]);
    let out = run(&exe, &[]);
    assert!(out.contains("sharded: all"), "{out}");
}

#[test]
fn header_compiles_as_cpp() {
    let exe = compile("header_cpp.cpp", true, &[]);
    assert!(run(&exe, &[]).contains("header_cpp: ok"));
}

#[test]
fn demo_examples_compile() {
    // make demo runs them; here they must at least compile warning-free against the header.
    compile("../../examples/c/gaussian_transport.c", false, &[]);
    compile("../../examples/c/swiss_roll.c", false, &[]);
}

#[test]
fn c_callbacks_scores_and_maps() {
    let exe = compile("callbacks.c", false, &[]);
    let out = run(&exe, &[&scratch("callbacks")]);
    assert!(out.contains("callbacks: all"), "{out}");
}

#[test]
fn c_discrete_solvers() {
    let exe = compile("discrete.c", false, &[]);
    let out = run(&exe, &[]);
    assert!(out.contains("discrete: all"), "{out}");
}

#[test]
fn c_hostile_inputs() {
    let exe = compile("hostile.c", false, &[]);
    let out = run(&exe, &[]);
    assert!(out.contains("hostile: all"), "{out}");
}

/// SPOT (issue 11, ABI 0.3): a W1 plan trained in C, its paired samples, cost estimate, report,
/// progress and cancellation, files, three marginals, presets, and the Euclidean cost's reach.
#[test]
fn c_spot() {
    let exe = compile("spot.c", false, &[]);
    let out = run(&exe, &[&scratch("spot")]);
    assert!(out.contains("spot: all"), "{out}");
}

/// Costs beyond squared Euclidean (issue 13 item 4): the linear-operator cost between a 1-d source
/// and a 2-d target, a host callback cost against the built-in squared cost, a TorchScript cost
/// module through a file (problem, file round trips, refusals, sampling).
#[test]
fn c_costs() {
    let exe = compile("costs.c", false, &[]);
    let module = manifest_dir().join("tests/fixtures/cost_softplus.pt");
    let out = run(&exe, &[&scratch("costs"), &module]);
    assert!(out.contains("costs: all"), "{out}");
}

/// Item 5 of issue 9: the table generated from include/scones.h by scripts/gen_bad_inputs.py
/// (every pointer NULL in turn, every matrix and numeric fault, every report struct_size). The
/// generator's --check fails when the committed table is stale, i.e. when an export was added
/// without a case or an exemption.
#[test]
fn c_generated_bad_inputs() {
    let script = manifest_dir().join("scripts/gen_bad_inputs.py");
    let check = Command::new("python3").arg(&script).arg("--check").output().expect("python3 runs the generator");
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let exe = compile("bad_inputs.c", false, &[]);
    let fixture = manifest_dir().join("tests/fixtures/score_module.pt");
    let out = run(&exe, &[&scratch("bad_inputs_scratch"), &fixture]);
    assert!(out.contains("bad_inputs: all"), "{out}");
}

/// Item 7 of issue 9: a program compiled against the frozen 0.1.0 header
/// (tests/fixtures/scones-0.1.0.h) runs against this library: version rule, 0.1 report sizes,
/// 0.1 progress callbacks.
#[test]
fn c_abi01_program_runs_against_this_library() {
    let exe = compile("abi01_compat.c", false, &[]);
    let out = run(&exe, &[]);
    assert!(out.contains("abi01_compat: all"), "{out}");
}

/// Item 6 of issue 9: a cancel from the progress callback stops training within one iteration
/// and sampling within one Langevin step, counted by the host callbacks the work calls.
#[test]
fn c_prompt_cancellation() {
    let exe = compile("cancel.c", false, &[]);
    let out = run(&exe, &[]);
    assert!(out.contains("cancel: all"), "{out}");
}
