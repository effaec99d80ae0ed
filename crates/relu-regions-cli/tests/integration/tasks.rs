//! `count --emit-tasks`, `--run-task` and `--merge`: a count run as task files, in waves
//! as a batch scheduler would run them, merges to exactly the single command's answer.

use std::path::Path;

use relu_regions_testkit::{bundled_data as data, temp_dir};
use serde_json::Value;

use crate::cli;

const ACAS: &str = "networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet";
const LEAKY_2D: &str = "networks/leaky/leaky_2d.onnx";

/// Task files in `dir` without a result yet.
fn pending(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(id) = name
            .strip_prefix("task_")
            .and_then(|n| n.strip_suffix(".json"))
            && !dir.join(format!("result_{id}.json")).exists()
        {
            out.push(dir.join(&name).display().to_string());
        }
    }
    out.sort();
    out
}

/// Emits, runs every task in waves with `budget` seconds each, merges after each wave
/// (an interval holding `single` until the last), and returns the final merge.
fn run_in_waves(model: &str, domain: &[&str], extra: &[&str], budget: &str, name: &str) -> Value {
    let dir = temp_dir(name);
    std::fs::remove_dir_all(&dir).ok();
    let mut args = vec!["count", model];
    args.extend(domain);
    args.extend(extra);
    let dir_s = dir.display().to_string();
    args.extend(["--emit-tasks", &dir_s, "--tasks", "5", "--json"]);
    let emitted = cli().run_json(&args);
    assert!(emitted["tasks"].as_u64().unwrap() >= 1);
    let mut waves = 0;
    loop {
        let files = pending(&dir);
        let merged = cli().run_json(&["count", model, "--merge", &dir_s, "--json"]);
        if files.is_empty() {
            assert_eq!(merged["tasks"]["open"], 0);
            return merged;
        }
        assert_eq!(merged["complete"], false);
        assert_eq!(
            merged["tasks"]["open"].as_u64().unwrap() as usize,
            files.len()
        );
        for f in files {
            let ran = cli().run_json(&[
                "count",
                model,
                "--run-task",
                &f,
                "--time-limit",
                budget,
                "--json",
            ]);
            assert!(ran["regions"].is_u64());
        }
        waves += 1;
        assert!(waves < 200, "the waves make no progress");
    }
}

#[test]
fn tasks_run_in_waves_merge_to_the_single_count() {
    let acas = data(ACAS);
    let leaky = data(LEAKY_2D);
    let cases: [(&Path, Vec<&str>, Vec<&str>); 3] = [
        (
            &acas,
            vec![
                "--center",
                "0,0,0,0,0",
                "--radius",
                "0.03",
                "--norm",
                "linf",
            ],
            vec!["--affine-maps"],
        ),
        (
            &acas,
            vec!["--center", "0.1,-0.1,0,0.2,0", "--radius", "0.05"],
            vec![],
        ),
        (&leaky, vec!["--center", "0,0", "--radius", "1"], vec![]),
    ];
    for (k, (model, domain, extra)) in cases.iter().enumerate() {
        let model = model.to_str().unwrap();
        let mut args = vec!["count", model];
        args.extend(domain);
        args.extend(extra);
        args.push("--json");
        let single = cli().run_json(&args);
        assert_eq!(single["exact"], true);
        let merged = run_in_waves(model, domain, extra, "0.003", &format!("cli-tasks-{k}"));
        for key in ["regions", "exact", "uncertain", "degenerate", "affine_maps"] {
            assert_eq!(merged[key], single[key], "case {k}: {key}");
        }
    }
}

#[test]
fn task_files_are_checked() {
    let acas = data(ACAS);
    let model = acas.to_str().unwrap();
    let dir = temp_dir("cli-tasks-checked");
    std::fs::remove_dir_all(&dir).ok();
    let dir_s = dir.display().to_string();
    let emit = [
        "count",
        model,
        "--center",
        "0,0,0,0,0",
        "--radius",
        "0.02",
        "--norm",
        "linf",
        "--emit-tasks",
        &dir_s,
        "--tasks",
        "3",
        "--json",
    ];
    cli().run_json(&emit);
    // A second emit into the same directory is refused.
    let out = cli().output(emit);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not empty"));
    let task = pending(&dir).into_iter().next().unwrap();
    // Another network.
    let leaky = data(LEAKY_2D);
    let out = cli().output(["count", leaky.to_str().unwrap(), "--run-task", &task]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("digest") && err.contains(&task), "{err}");
    let out = cli().output(["count", leaky.to_str().unwrap(), "--merge", &dir_s]);
    assert!(!out.status.success());
    // The domain comes from the task.
    let out = cli().output(["count", model, "--run-task", &task, "--radius", "1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--radius"));
    // A damaged task file names itself.
    let broken = dir.join("task_broken.json");
    std::fs::write(&broken, "{\"format\": 1, \"id\": ").unwrap();
    let out = cli().output(["count", model, "--run-task", broken.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("task_broken.json") && err.contains("JSON"),
        "{err}"
    );
    std::fs::remove_file(&broken).unwrap();
    // Without --radius or --vnnlib, a plain count says what is missing.
    let out = cli().output(["count", model, "--center", "0,0,0,0,0"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--radius"));
}
