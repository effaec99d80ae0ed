//! A stress suite over the whole command line (issue 16): random valid and invalid
//! arguments for every command, and randomly mutated model and points files. Whatever
//! the input, the binary must end by itself within its limits (no hang), never panic
//! (exit code 101) or die of a signal, exit 0 for success, 1 for a bad input and 2 for
//! a malformed command line, and, when it refuses, name the argument or the file at
//! fault.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use relu_regions_testkit::{bundled_data as data, temp_dir};

use super::cli;

const ACAS: &str = "networks/acasxu/ACASXU_run2a_1_1_batch_2000.onnx";
const ACAS_NNET: &str = "networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet";
const POINTS: &str = "networks/acasxu/points_1_1.csv";

/// Every run ends well within this (the arguments keep counts small or time-limited).
const WALL_LIMIT: Duration = Duration::from_secs(60);

/// Runs the binary; fails the test when it outlives [`WALL_LIMIT`] (then it is killed).
fn run(args: &[String]) -> Output {
    let mut child = cli()
        .command()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > WALL_LIMIT {
            let _ = child.kill();
            panic!("relu-regions {args:?} ran past {WALL_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The outcome contract: exit 0, 1 or 2 (no panic, no signal); on failure a message that
/// names one of `culprits`.
fn check(args: &[String], out: &Output, culprits: &[String]) -> Result<(), TestCaseError> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    prop_assert!(
        matches!(code, Some(0..=2)),
        "relu-regions {args:?}: exit {code:?}\n{stderr}"
    );
    prop_assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    if code != Some(0) && !culprits.is_empty() {
        prop_assert!(
            culprits.iter().any(|c| stderr.contains(c.as_str())),
            "relu-regions {args:?}: the message names none of {culprits:?}:\n{stderr}"
        );
    }
    Ok(())
}

fn s(v: &str) -> String {
    v.to_string()
}

fn coords(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A value for a numeric argument: mostly valid, sometimes out of range or not a number.
fn number() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        4 => (1e-4..0.05f64).prop_map(|v| (format!("{v:?}"), true)),
        1 => Just((s("0"), false)),
        1 => Just((s("-0.01"), false)),
        1 => Just((s("NaN"), false)),
        1 => Just((s("inf"), false)),
        1 => Just((s("1e400"), false)),
        1 => Just((s("abc"), false)),
        1 => Just((s(""), false)),
    ]
}

/// A centre for the 5-input network: mostly valid, sometimes of the wrong length or with
/// a value that is not finite.
fn center() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        4 => proptest::collection::vec(-0.3..0.3f64, 5).prop_map(|v| (coords(&v), true)),
        1 => proptest::collection::vec(-0.3..0.3f64, 4).prop_map(|v| (coords(&v), false)),
        1 => proptest::collection::vec(-0.3..0.3f64, 6).prop_map(|v| (coords(&v), false)),
        1 => Just((s("0,0,nan,0,0"), false)),
        1 => Just((s("0,0,,0,0"), false)),
    ]
}

fn norm() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        3 => Just((s("l2"), true)),
        3 => Just((s("linf"), true)),
        1 => Just((s("l3"), false)),
    ]
}

/// One command with its arguments, and the arguments that are invalid (whose names the
/// message must give when the command refuses).
fn command_line() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    let model =
        prop_oneof![Just(ACAS), Just(ACAS_NNET)].prop_map(|m| data(m).display().to_string());
    (
        0usize..5,
        model,
        center(),
        number(),
        norm(),
        number(),
        0u64..3000,
    )
        .prop_map(
            |(kind, model, (c, c_ok), (r, r_ok), (n, n_ok), (t, t_ok), regions)| {
                let mut bad = Vec::new();
                let mut flag = |name: &str, ok: bool| {
                    if !ok {
                        bad.push(s(name));
                    }
                };
                let mut args = match kind {
                    0 => vec![s("bound"), model, s("--samples"), s("200")],
                    1 => vec![s("count"), model, s("--max-regions"), regions.to_string()],
                    2 => vec![s("slice"), model, s("--random-dirs"), s("3")],
                    3 => vec![
                        s("distance"),
                        model,
                        s("--points"),
                        data(POINTS).display().to_string(),
                    ],
                    _ => vec![s("line"), model, s("--to"), s("0.1,0.1,0.1,0.1,0.1")],
                };
                match kind {
                    0..=2 => {
                        args.extend([s("--center"), c, s("--radius"), r]);
                        flag("--center", c_ok);
                        flag("--radius", r_ok);
                        if kind < 2 {
                            args.extend([s("--norm"), n]);
                            flag("--norm", n_ok);
                        }
                        if kind == 1 {
                            // A time limit of 0 is valid (stop at once), a radius of 0 not.
                            let t_ok = t_ok || t == "0";
                            args.extend([s("--time-limit"), t]);
                            flag("--time-limit", t_ok);
                        }
                    }
                    3 => {
                        args.extend([s("--norm"), n]);
                        flag("--norm", n_ok);
                    }
                    _ => {
                        args.extend([s("--from"), c]);
                        flag("--from", c_ok);
                    }
                }
                if (1..=3).contains(&kind) {
                    // count, slice and distance show progress unless told not to.
                    args.push(s("--quiet"));
                }
                (args, bad)
            },
        )
}

/// A mutation of a file's bytes: flips, truncation, insertion, deletion of a range.
fn mutate(bytes: &[u8], (kind, at, len, byte): (u8, usize, usize, u8)) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if out.is_empty() {
        return vec![byte];
    }
    let at = at % out.len();
    match kind % 4 {
        0 => {
            for b in out.iter_mut().skip(at).take(len % 16 + 1) {
                *b ^= byte | 1;
            }
        }
        1 => out.truncate(at),
        2 => {
            let insert = vec![byte; len % 64 + 1];
            out.splice(at..at, insert);
        }
        _ => {
            let end = (at + len % 4096 + 1).min(out.len());
            out.drain(at..end);
        }
    }
    out
}

fn write_case(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random arguments for bound, count, slice, distance and line.
    #[test]
    fn random_arguments_are_answered_or_refused_by_name((args, bad) in command_line()) {
        let out = run(&args);
        if bad.is_empty() {
            prop_assert!(
                out.status.success(),
                "relu-regions {args:?} failed on valid arguments:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            prop_assert!(!out.status.success(), "relu-regions {args:?} accepted {bad:?}");
        }
        check(&args, &out, &bad)?;
    }

    /// Mutated model files (ONNX and .nnet): inspect and eval load them or refuse them
    /// naming the file.
    #[test]
    fn mutated_model_files_are_loaded_or_refused_by_name(
        nnet in any::<bool>(),
        mutation in (0u8..4, any::<usize>(), any::<usize>(), any::<u8>()),
        command in 0usize..2,
    ) {
        let dir = temp_dir("stress-models");
        let (source, name) = if nnet { (ACAS_NNET, "mutated.nnet") } else { (ACAS, "mutated.onnx") };
        let bytes = mutate(&std::fs::read(data(source)).unwrap(), mutation);
        let path = write_case(&dir, name, &bytes);
        let shown = path.display().to_string();
        let args = if command == 0 {
            vec![s("inspect"), shown.clone()]
        } else {
            vec![s("eval"), shown.clone(), s("--points"), data(POINTS).display().to_string()]
        };
        let out = run(&args);
        check(&args, &out, &[shown])?;
    }

    /// Mutated points files: eval reads them or refuses them naming the file.
    #[test]
    fn mutated_points_files_are_read_or_refused_by_name(
        mutation in (0u8..4, any::<usize>(), any::<usize>(), prop_oneof![Just(b','), Just(b'\n'), Just(b'-'), Just(b'e'), Just(b'x'), Just(0xEF), any::<u8>()]),
    ) {
        let dir = temp_dir("stress-points");
        let bytes = mutate(&std::fs::read(data(POINTS)).unwrap(), mutation);
        let path = write_case(&dir, "mutated.csv", &bytes);
        let shown = path.display().to_string();
        let args = vec![s("eval"), data(ACAS).display().to_string(), s("--points"), shown.clone()];
        let out = run(&args);
        check(&args, &out, &[shown])?;
    }
}
