//! The `relu-regions` binary on the bundled network: commands run, JSON has its keys,
//! numbers agree with the library, bad input gives a clear error and a failing exit code.

use relu_regions_testkit::{bundled_data as data, reference_points, temp_dir};
use serde_json::Value;

use crate::cli;

const ACAS: &str = "networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet";
const ACAS_ONNX: &str = "networks/acasxu/ACASXU_run2a_1_1_batch_2000.onnx";

#[test]
fn inspect_json_has_the_documented_keys() {
    for model in [ACAS, ACAS_ONNX] {
        let v = cli().run_json(&["inspect", data(model).to_str().unwrap(), "--json"]);
        assert_eq!(v["input_dim"], 5);
        assert_eq!(
            v["layer_widths"],
            serde_json::json!([50, 50, 50, 50, 50, 50, 5])
        );
        assert_eq!(v["relus"], 300);
        assert_eq!(v["params"], 13_305);
        assert_eq!(v["output_relu"], false);
        assert_eq!(v["assumptions"], serde_json::json!([]));
    }
    // A safetensors checkpoint's activation is an assumption, said in the JSON, the text
    // and as a note on stderr by every command that loads it.
    let net = relu_regions_testkit::load_network(&data(ACAS));
    let dir = temp_dir("cli-inspect");
    let path = dir.join("acas.safetensors");
    relu_regions_io::write_safetensors(&net, &path).unwrap();
    let v = cli().run_json(&["inspect", path.to_str().unwrap(), "--json"]);
    assert!(
        v["assumptions"][0]
            .as_str()
            .unwrap()
            .contains("assumed to be ReLU")
    );
    let out = cli().output(["eval", path.to_str().unwrap(), "--point", "0,0,0,0,0"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("note: ")
            && err.contains("acas.safetensors")
            && err.contains("assumed to be ReLU"),
        "{err}"
    );
}

#[test]
fn inspect_text_runs() {
    let out = cli().output(["inspect", data(ACAS).to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("5 -> 50 -> 50"), "{text}");
}

#[test]
fn eval_matches_reference_outputs() {
    let rows = reference_points(&data(ACAS));
    let inputs: Vec<&Vec<f64>> = rows.iter().map(|r| &r.input).collect();
    let dir = temp_dir("cli");
    let points = dir.join("points.json");
    std::fs::write(&points, serde_json::to_string(&inputs).unwrap()).unwrap();
    let v = cli().run_json(&[
        "eval",
        data(ACAS).to_str().unwrap(),
        "--points",
        points.to_str().unwrap(),
        "--json",
    ]);
    let outputs = v["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), rows.len());
    for (got, row) in outputs.iter().zip(&rows) {
        for (a, &b) in got.as_array().unwrap().iter().zip(&row.output) {
            let a = a.as_f64().unwrap();
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
        }
    }
    let p0 = &v["points"][0];
    let per_layer: u64 = p0["active_per_layer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(per_layer, p0["active"].as_u64().unwrap());
}

#[test]
fn eval_csv_points_and_full_pattern() {
    let v = cli().run_json(&[
        "eval",
        data(ACAS).to_str().unwrap(),
        "--points",
        data("networks/acasxu/points_1_1.csv").to_str().unwrap(),
        "--full-pattern",
        "--json",
    ]);
    assert_eq!(v["outputs"].as_array().unwrap().len(), 5);
    let pattern = v["points"][0]["pattern"].as_str().unwrap();
    assert_eq!(pattern.len(), 300);
    assert_eq!(
        pattern.chars().filter(|&c| c == '1').count() as u64,
        v["points"][0]["active"].as_u64().unwrap()
    );
    // Reluplex point 0 is advisory COC (argmin 0), as the points file records.
    assert_eq!(v["points"][0]["argmin"], 0);
}

#[test]
fn bad_input_gives_clear_errors() {
    let dir = temp_dir("cli-bad");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "inspect".into(),
                dir.join("missing.onnx").display().to_string(),
            ],
            "missing.onnx",
        ),
        (
            vec![
                "inspect".into(),
                dir.join("model.xyz").display().to_string(),
            ],
            "unknown model format",
        ),
        (
            vec![
                "eval".into(),
                data(ACAS).display().to_string(),
                "--point".into(),
                "1,2".into(),
            ],
            "has 2 coordinates but the network takes 5",
        ),
    ];
    std::fs::write(dir.join("model.xyz"), b"x").unwrap();
    for (args, needle) in cases {
        let out = cli().output(&args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // A missing file's cause is printed once.
    let out = cli().output(["inspect", dir.join("missing.onnx").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    let cause = std::fs::read(dir.join("missing.onnx"))
        .unwrap_err()
        .to_string();
    assert_eq!(err.matches(&cause).count(), 1, "{err}");
    // One rule for the radius in every command that takes one, negative values reaching
    // it (not clap's "unexpected argument"); a negative time limit too.
    let model = data(ACAS).display().to_string();
    for radius in ["-0.01", "0", "NaN", "inf"] {
        for command in [
            vec!["count", "--center", "0,0,0,0,0"],
            vec!["bound", "--center", "0,0,0,0,0"],
            vec!["slice", "--center", "0,0,0,0,0", "--random-dirs", "1"],
        ] {
            let mut args = command.clone();
            args.insert(1, &model);
            args.extend(["--radius", radius]);
            let out = cli().output(&args);
            assert!(!out.status.success(), "{args:?} should fail");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("--radius must be a positive number"),
                "{args:?}: {err}"
            );
        }
    }
    let out = cli().output([
        "count",
        &model,
        "--center",
        "-0.1,0,0,0,0",
        "--radius",
        "0.01",
        "--time-limit",
        "-1",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--time-limit must be a nonnegative"), "{err}");
    let truncated = dir.join("cut.nnet");
    let bytes = std::fs::read(data(ACAS)).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let out = cli().output(["inspect", truncated.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cut.nnet") && err.contains("line"), "{err}");
}

#[test]
fn distance_json_and_certified_ball() {
    let model = data(ACAS);
    for norm in ["l2", "linf"] {
        let v = cli().run_json(&[
            "distance",
            model.to_str().unwrap(),
            "--points",
            data("networks/acasxu/points_1_1.csv").to_str().unwrap(),
            "--norm",
            norm,
            "--json",
        ]);
        let points = v["points"].as_array().unwrap();
        assert_eq!(points.len(), 5);
        for p in points {
            let d = p["distance"].as_f64().unwrap();
            assert!(d > 0.0 && d < 1.0);
            assert!(p["nearest"]["layer"].as_u64().unwrap() < 6);
            assert_eq!(p["nearest_point"].as_array().unwrap().len(), 5);
        }
        assert!(v["summary"]["median"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn line_json_keys() {
    let v = cli().run_json(&[
        "line",
        data(ACAS).to_str().unwrap(),
        "--from=-0.3,-0.5,-0.5,-0.5,-0.5",
        "--to",
        "0.6,0.5,0.5,0.5,0.5",
        "--json",
    ]);
    let regions = v["regions"].as_u64().unwrap();
    assert!(regions > 10);
    assert!(v["pieces"].as_u64().unwrap() <= regions);
    assert_eq!(v["crossings"].as_array().unwrap().len() as u64, regions - 1);
    assert_eq!(v["unverified"], 0);
}

#[test]
fn demo_runs() {
    let dir = temp_dir("cli-demo");
    let picture = dir.join("slice.png");
    let out = cli().output([
        "demo",
        "--data",
        data("").to_str().unwrap(),
        "--picture",
        picture.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("activation regions crossed"), "{text}");
    assert!(std::fs::metadata(&picture).unwrap().len() > 10_000);
}

#[test]
fn distance_inradius_is_at_least_the_distance() {
    let v = cli().run_json(&[
        "distance",
        data(ACAS).to_str().unwrap(),
        "--points",
        data("networks/acasxu/points_1_1.csv").to_str().unwrap(),
        "--inradius",
        "--no-nearest-point",
        "--json",
    ]);
    for p in v["points"].as_array().unwrap() {
        assert!(p.get("nearest_point").is_none());
        let d = p["distance"].as_f64().unwrap();
        let r = p["inradius"]["radius"].as_f64().unwrap();
        assert!(r >= d * (1.0 - 1e-6), "inradius {r} < distance {d}");
    }
}

#[test]
fn bound_json_sandwich() {
    for method in ["ibp", "crown"] {
        let v = cli().run_json(&[
            "bound",
            data(ACAS).to_str().unwrap(),
            "--center-file",
            data("networks/acasxu/points_1_1.csv").to_str().unwrap(),
            "--row",
            "2",
            "--radius",
            "0.02",
            "--norm",
            "linf",
            "--method",
            method,
            "--samples",
            "3000",
            "--json",
        ]);
        let lower = v["lower_bound"].as_u64().unwrap();
        let log2 = v["local_bound_log2"].as_f64().unwrap();
        assert!(lower >= 1 && (lower as f64).log2() <= log2 + 1e-9);
        assert!(log2 <= v["global_bound_log2"].as_f64().unwrap());
        let decimal = v["local_bound"].as_str().unwrap();
        assert!(decimal.chars().all(|c| c.is_ascii_digit()));
        let unstable = v["unstable_per_layer"].as_array().unwrap();
        let lc = v["lc_per_layer"].as_array().unwrap();
        assert_eq!(unstable.len(), 6);
        for (u, l) in unstable.iter().zip(lc) {
            assert!(l.as_u64().unwrap() <= u.as_u64().unwrap());
        }
        let certified = v["certified_radius"].as_f64().unwrap();
        assert!(certified <= v["exact_distance"].as_f64().unwrap());
    }
}

#[test]
fn bound_on_a_vnnlib_box_and_errors() {
    let dir = temp_dir("cli-vnnlib");
    let spec = dir.join("box.vnnlib");
    let mut text = String::new();
    for i in 0..5 {
        text += &format!(
            "(declare-const X_{i} Real)\n(assert (>= X_{i} -0.01))\n(assert (<= X_{i} 0.01))\n"
        );
    }
    std::fs::write(&spec, &text).unwrap();
    let v = cli().run_json(&[
        "bound",
        data(ACAS).to_str().unwrap(),
        "--vnnlib",
        spec.to_str().unwrap(),
        "--samples",
        "500",
        "--json",
    ]);
    assert!(v["certified_radius"].is_null());
    assert!(v["lower_bound"].as_u64().unwrap() >= 1);
    let bad = dir.join("two.vnnlib");
    std::fs::write(&bad, "(declare-const X_0 Real)\n(assert (or (and (>= X_0 0) (<= X_0 1)) (and (>= X_0 2) (<= X_0 3))))").unwrap();
    let out = cli().output([
        "bound",
        data(ACAS).to_str().unwrap(),
        "--vnnlib",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("disjunction of 2"));
}

#[test]
fn count_json_exact_partial_and_anytime() {
    let center = [
        "--center-file",
        data("networks/acasxu/points_1_1.csv")
            .to_str()
            .unwrap()
            .to_owned()
            .leak(),
        "--row",
        "1",
    ];
    let base = |extra: &[&str]| {
        let mut args = vec![
            "count",
            data(ACAS).to_str().unwrap().to_owned().leak() as &str,
        ];
        args.extend(center);
        args.extend(["--radius", "0.02", "--norm", "linf", "--json"]);
        args.extend(extra);
        cli().run_json(&args)
    };
    let exact = base(&["--affine-maps"]);
    let regions = exact["regions"].as_u64().unwrap();
    assert!(regions > 10);
    assert_eq!(exact["complete"], true);
    assert_eq!(exact["exact"], true);
    assert_eq!(exact["uncertain"], 0);
    assert_eq!(exact["unverified"], 0);
    assert!(exact["affine_maps"].as_u64().unwrap() <= regions);
    assert!(exact.get("upper_bound").is_none());
    assert!(exact["local_bound_log2"].as_f64().unwrap() >= (regions as f64).log2());
    // Sampling never finds more patterns than the exact count.
    let sampled = cli().run_json(&[
        "bound",
        data(ACAS).to_str().unwrap(),
        center[0],
        center[1],
        center[2],
        center[3],
        "--radius",
        "0.02",
        "--norm",
        "linf",
        "--samples",
        "20000",
        "--json",
    ]);
    assert!(sampled["lower_bound"].as_u64().unwrap() <= regions);
    let partial = base(&["--max-regions", "5"]);
    assert_eq!(partial["complete"], false);
    let upper: f64 = partial["upper_bound"].as_str().unwrap().parse().unwrap();
    assert!(upper >= regions as f64);
    let anytime = base(&["--exact-layers", "2"]);
    let upper: f64 = anytime["upper_bound"].as_str().unwrap().parse().unwrap();
    assert!(upper >= regions as f64);
    // Every text output says when a limit was hit, the anytime mode's too.
    let text = |extra: &[&str]| {
        let mut args = vec![
            "count",
            data(ACAS).to_str().unwrap().to_owned().leak() as &str,
        ];
        args.extend(center);
        args.extend(["--radius", "0.02", "--norm", "linf"]);
        args.extend(extra);
        let out = cli().output(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for extra in [
        &["--max-regions", "5"][..],
        &["--exact-layers", "2", "--max-regions", "5"],
        &["--exact-layers", "2", "--time-limit", "0"],
    ] {
        let t = text(extra);
        assert!(t.contains("a limit was hit"), "{extra:?}: {t}");
    }
    let t = text(&["--exact-layers", "2"]);
    assert!(!t.contains("a limit was hit"), "{t}");
    let dir = temp_dir("cli-count");
    let out = dir.join("regions.jsonl");
    base(&["--regions-out", out.to_str().unwrap()]);
    let lines: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, regions);
    for l in &lines {
        assert_eq!(l["pattern"].as_str().unwrap().len(), 300);
        assert!(l["inner_radius"].as_f64().unwrap() > 0.0);
    }
}

/// A count of ACAS Xu in the L-inf ball of radius 0.4 at the origin (minutes of work),
/// started with `extra` arguments, stdout and stderr piped.
fn spawn_long_count(extra: &[&str]) -> std::process::Child {
    cli()
        .command()
        .args(["count", data(ACAS).to_str().unwrap()])
        .args(["--center", "0,0,0,0,0", "--radius", "0.4", "--norm", "linf"])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// SIGINT during a long study: it stops after the checkpoint being tracked, writes its
/// report over the checkpoints done (marked interrupted), says so, and exits with 130.
#[cfg(unix)]
#[test]
fn an_interrupted_study_reports_the_checkpoints_it_has() {
    let out = temp_dir("cli-study-interrupt");
    let child = cli()
        .command()
        .args(["study", "--epochs", "100000", "--points", "10", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(130),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("interrupted after"), "{stdout}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["interrupted"], true);
    let done = report["checkpoints"].as_array().unwrap().len();
    assert!((1..100_001).contains(&done), "{done}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("**Interrupted** after"), "{md}");
}

/// SIGINT (Ctrl-C) and SIGTERM during a long count: the partial answer is printed, as
/// JSON or text, and the exit code is 130.
#[cfg(unix)]
#[test]
fn an_interrupted_count_prints_its_partial_answer() {
    for (signal, json) in [("-INT", true), ("-TERM", false)] {
        let child = spawn_long_count(if json { &["--json"] } else { &[] });
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let status = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(130),
            "{signal}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        if json {
            let v: Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(v["interrupted"], true);
            assert_eq!(v["complete"], false);
            assert_eq!(v["exact"], false);
            assert!(v["regions"].as_u64().unwrap() > 0);
        } else {
            assert!(
                stdout.contains("interrupted") && stdout.contains("between"),
                "{stdout}"
            );
        }
    }
}

/// With stderr not a terminal, a long count reports its progress as lines (every 5 s);
/// `--quiet` silences them. Both runs stop at a 6 s limit.
#[test]
fn progress_goes_to_stderr_as_lines_when_piped() {
    let loud = spawn_long_count(&["--time-limit", "6", "--json"]);
    let quiet = spawn_long_count(&["--time-limit", "6", "--json", "--quiet"]);
    let loud = loud.wait_with_output().unwrap();
    let quiet = quiet.wait_with_output().unwrap();
    for out in [&loud, &quiet] {
        assert!(out.status.success());
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["complete"], false);
    }
    let err = String::from_utf8_lossy(&loud.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("counting: ") && l.contains(" regions after ")),
        "{err}"
    );
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
}
