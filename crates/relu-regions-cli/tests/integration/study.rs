//! A tiny end-to-end study: trains for two epochs on two moons, tracks a few points, and
//! checks the report files and the keys of report.json.

use serde_json::Value;

use crate::cli;

#[test]
fn tiny_study_writes_every_report_file() {
    let out = std::env::temp_dir().join(format!("rr-study-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let status = cli()
        .command()
        .args([
            "study",
            "--epochs",
            "2",
            "--points",
            "6",
            "--samples",
            "120",
            "--radii",
            "0.1,0.3",
            "--arch",
            "2-8-8-2",
            "--json",
            "--export-onnx",
        ])
        .arg(out.join("final.onnx"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let stdout: Value = serde_json::from_slice(&status.stdout).expect("JSON on stdout");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(stdout, file);
    // The exported ONNX is the last checkpoint (float32 either way: equal outputs).
    let onnx = relu_regions_io::load_model(&out.join("final.onnx"), Default::default()).unwrap();
    let last = relu_regions_io::load_model(
        &out.join("checkpoints/epoch_002.safetensors"),
        Default::default(),
    )
    .unwrap();
    for x in [[0.3, -0.7], [1.0, 2.0]] {
        assert_eq!(
            onnx.network.forward(&x).unwrap(),
            last.network.forward(&x).unwrap()
        );
    }
    for key in [
        "dataset",
        "config",
        "checkpoints",
        "findings",
        "points",
        "train_seconds",
    ] {
        assert!(file.get(key).is_some(), "missing key {key}");
    }
    let cps = file["checkpoints"].as_array().unwrap();
    assert_eq!(cps.len(), 3);
    assert_eq!(cps[0]["sets"].as_array().unwrap().len(), 3);
    assert_eq!(cps[2]["sets"][0]["distance"].as_array().unwrap().len(), 6);
    assert_eq!(cps[2]["sets"][0]["bound_log2"].as_array().unwrap().len(), 2);
    for f in ["f1", "f2"] {
        assert!(file["findings"][f]["holds"].is_boolean());
        assert!(file["findings"][f]["statement"].is_string());
    }
    assert!(file["findings"]["f1"]["sets"][0]["wilcoxon_first_last"]["p"].is_number());
    // F2: every checkpoint x 2 radii x {arbitrary, test} x {bound, unstable, lc, slice
    // regions, ball regions (2-D data)}.
    let comparisons = file["findings"]["f2"]["comparisons"].as_array().unwrap();
    assert_eq!(comparisons.len(), 3 * 2 * 2 * 5);
    for e in 0..=2 {
        assert!(comparisons.iter().any(|c| c["epoch"] == e
            && c["metric"] == "lc"
            && c["against"] == "test"
            && c["test"]["p"].is_number()));
    }
    assert_eq!(
        cps[2]["sets"][1]["slice_regions"].as_array().unwrap().len(),
        2
    );
    assert_eq!(
        cps[2]["sets"][2]["ball_regions"][1]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    // The exact ball count (2-D data) is taken at every checkpoint, one list per radius.
    assert_eq!(
        cps[1]["sets"][0]["ball_regions"].as_array().unwrap().len(),
        2
    );
    for ext in ["png", "svg"] {
        assert!(out.join(format!("distance.{ext}")).is_file());
        assert!(out.join(format!("bound_r0.1.{ext}")).is_file());
        assert!(out.join(format!("ball_r0.1.{ext}")).is_file());
    }
    // Distributions of every metric at the last checkpoint.
    for metric in [
        "distance",
        "bound_log2",
        "unstable",
        "lc",
        "slice_regions",
        "ball_regions",
    ] {
        for ext in ["png", "svg"] {
            let f = out.join(format!("dist_{metric}.{ext}"));
            assert!(f.is_file() && f.metadata().unwrap().len() > 1000, "{f:?}");
        }
    }
    // The input square's partition (2-D data) at the first, a middle and the last epoch.
    for e in 0..=2 {
        for ext in ["png", "svg"] {
            assert!(out.join(format!("partition_epoch_{e:03}.{ext}")).is_file());
        }
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Verdicts") && md.contains("F1") && md.contains("F2"));
    // F2 per epoch: a table per metric and comparison, a row per checkpoint.
    assert!(md.contains("### Over training"));
    for metric in [
        "bound_log2",
        "unstable",
        "lc",
        "slice_regions",
        "ball_regions",
    ] {
        for against in ["arbitrary", "test"] {
            let head = format!("#### `{metric}`, train vs {against}");
            let at = md.find(&head).unwrap_or_else(|| panic!("no table {head}"));
            let table: Vec<&str> = md[at..]
                .lines()
                .skip(2)
                .take_while(|l| l.starts_with('|'))
                .collect();
            assert_eq!(table[0], "| epoch | r = 0.1 | r = 0.3 |");
            let epochs: Vec<&str> = table[2..table.len() - 1]
                .iter()
                .map(|l| l.split('|').nth(1).unwrap().trim())
                .collect();
            assert_eq!(epochs, ["0", "1", "2"], "{head}");
            assert!(table[2].contains(" vs "), "{}", table[2]);
        }
    }
    for stem in [
        "dist_bound_log2",
        "partition_epoch_000",
        "partition_epoch_002",
    ] {
        assert!(md.contains(&format!("![{stem}]({stem}.png)")), "{stem}");
    }
    // The region count in the report is the library's exact partition of the square.
    let mut config = relu_regions_study::StudyConfig::default_for(
        relu_regions_study::datasets::DatasetKind::Moons,
    );
    config.samples = 120;
    let data = relu_regions_study::load_dataset(&config).unwrap();
    let last_net = relu_regions_io::load_model(
        &out.join("checkpoints/epoch_002.safetensors"),
        Default::default(),
    )
    .unwrap()
    .network;
    let (_, part) =
        relu_regions_study::track::input_partition(&last_net, &data, 0.05, 1_000_000).unwrap();
    assert!(
        md.contains(&format!(
            "**Epoch 2: {} activation regions**",
            part.region_count()
        )),
        "{}",
        part.region_count()
    );
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(csv.starts_with("epoch,set,point,metric,radius,value\n"));
    for e in 0..=2 {
        let ckpt = out.join(format!("checkpoints/epoch_{e:03}.safetensors"));
        let m = relu_regions_io::load_model(&ckpt, Default::default()).expect("loads");
        assert_eq!(m.network.input_dim(), 2);
        assert_eq!(m.network.layer_widths(), vec![8, 8, 2]);
    }

    // --checkpoints: the same networks tracked without training give the same numbers.
    let out2 = out.join("retrack");
    let status = cli()
        .command()
        .args([
            "study",
            "--points",
            "6",
            "--samples",
            "120",
            "--radii",
            "0.1,0.3",
            "--json",
            "--checkpoints",
        ])
        .arg(out.join("checkpoints"))
        .arg("--out")
        .arg(&out2)
        .output()
        .expect("runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let again: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(again["checkpoints"], file["checkpoints"]);
    assert_eq!(again["findings"], file["findings"]);
    // The pictures are drawn from the given checkpoints too.
    assert!(out2.join("partition_epoch_002.png").is_file());
    assert!(out2.join("dist_lc.svg").is_file());

    // summary.json: the verdicts at the top level.
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["f1"], file["findings"]["f1"]);
    assert_eq!(summary["f2"], file["findings"]["f2"]);

    // The metrics of a checkpoint are what the individual commands (distance, bound,
    // slice, count) report on it, at the points the study wrote out.
    let metric = |epoch: usize, set: &str, point: usize, name: &str, radius: &str| -> f64 {
        let key = format!("{epoch},{set},{point},{name},{radius},");
        csv.lines()
            .find_map(|l| l.strip_prefix(&key))
            .unwrap_or_else(|| panic!("no row {key}"))
            .parse()
            .unwrap()
    };
    let run = |args: &[&str]| -> Value {
        let o = cli()
            .command()
            .args(args)
            .arg("--json")
            .output()
            .expect("runs");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).expect("JSON")
    };
    let ckpt = out.join("checkpoints/epoch_002.safetensors");
    let ckpt = ckpt.to_str().unwrap();
    for (s, set) in ["train", "test", "arbitrary"].into_iter().enumerate() {
        let points = out.join(format!("points_{set}.csv"));
        let points = points.to_str().unwrap();
        let distances = run(&["distance", ckpt, "--points", points, "--norm", "l2"]);
        for k in 0..6 {
            let d = distances["points"][k]["distance"].as_f64().unwrap();
            let tracked = metric(2, set, k, "distance", "");
            assert!(
                (d - tracked).abs() <= 1e-12 * d.max(1.0),
                "{set} {k}: {d} vs {tracked}"
            );
            let row = k.to_string();
            let center = ["--center-file", points, "--row", &row, "--radius", "0.1"];
            let bound = run(&[&["bound", ckpt, "--method", "crown"][..], &center[..]].concat());
            let unstable: u64 = bound["unstable_per_layer"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .sum();
            assert_eq!(
                bound["local_bound_log2"].as_f64().unwrap(),
                metric(2, set, k, "bound_log2", "0.1"),
                "{set} {k}"
            );
            assert_eq!(unstable as f64, metric(2, set, k, "unstable", "0.1"));
            // The slice disc's plane is seeded per point (study seed 0).
            let plane = relu_regions_study::track::point_seed(0, s, k, usize::MAX).to_string();
            let slice = run(&[&["slice", ckpt, "--random-dirs", &plane][..], &center[..]].concat());
            assert_eq!(
                slice["regions"].as_f64().unwrap(),
                metric(2, set, k, "slice_regions", "0.1"),
                "{set} {k}"
            );
            let count = run(&[&["count", ckpt][..], &center[..]].concat());
            assert_eq!(
                count["regions"].as_f64().unwrap(),
                metric(2, set, k, "ball_regions", "0.1"),
                "{set} {k}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// Image data (64-D digits): exact ball counts within a budget of 30 regions, which some
/// balls exceed. A finished count is the `count` command's; an unfinished one is `null`
/// with its certified regions as the lower bound, and so is every larger radius at that
/// point; the report's statistics leave such points out and say how many, in
/// report.json, report.md, metrics.csv and the plots' titles.
#[test]
fn image_study_counts_balls_within_budget_and_marks_the_rest() {
    let out = std::env::temp_dir().join(format!("rr-study-budget-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let file = cli().run_json(&[
        "study",
        "--dataset",
        "digits",
        "--arch",
        "64-16-16-10",
        "--epochs",
        "1",
        "--points",
        "6",
        "--radii",
        "0.4,0.1",
        "--ball-max-regions",
        "30",
        "--ball-seconds",
        "600",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(file["ball_budget"]["max_regions"], 30);
    assert_eq!(file["ball_budget"]["seconds"], 600.0);
    let ckpt = out.join("checkpoints/epoch_000.safetensors");
    let ckpt = ckpt.to_str().unwrap();
    let cp0 = &file["checkpoints"][0];
    let (mut exact, mut over) = (0, 0);
    let mut over_per_radius = [0usize; 2];
    for (s, set) in ["train", "test", "arbitrary"].into_iter().enumerate() {
        let points = out.join(format!("points_{set}.csv"));
        let m = &cp0["sets"][s];
        for k in 0..6 {
            let row = k.to_string();
            // Radius index 1 (0.1) is counted first; 0 (0.4) only when it finished.
            let small = &m["ball_regions"][1][k];
            let large = &m["ball_regions"][0][k];
            if small.is_null() {
                assert!(
                    large.is_null(),
                    "{set} {k}: a larger radius after one ran out"
                );
                assert_eq!(
                    m["ball_regions_at_least"][0][k],
                    m["ball_regions_at_least"][1][k]
                );
            }
            for (ri, radius) in [(0, "0.4"), (1, "0.1")] {
                let value = &m["ball_regions"][ri][k];
                let at_least = m["ball_regions_at_least"][ri][k].as_u64().unwrap();
                let count = cli().run_json(&[
                    "count",
                    ckpt,
                    "--center-file",
                    points.to_str().unwrap(),
                    "--row",
                    &row,
                    "--radius",
                    radius,
                    "--max-regions",
                    "30",
                    "--json",
                ]);
                if value.is_null() {
                    over += 1;
                    over_per_radius[ri] += 1;
                    assert_eq!(count["complete"], false, "{set} {k} r {radius}");
                    assert!(at_least <= count["regions"].as_u64().unwrap());
                } else {
                    exact += 1;
                    assert_eq!(count["complete"], true, "{set} {k} r {radius}");
                    assert_eq!(count["regions"], *value, "{set} {k} r {radius}");
                    assert_eq!(value.as_u64().unwrap(), at_least);
                }
            }
        }
    }
    assert!(exact > 0 && over > 0, "{exact} exact, {over} over budget");
    // The comparisons count the points they leave out.
    for c in file["findings"]["f2"]["comparisons"].as_array().unwrap() {
        let missing = |set: usize| {
            let ri = if c["radius"] == 0.4 { 0 } else { 1 };
            let e = c["epoch"].as_u64().unwrap() as usize;
            let v = &file["checkpoints"][e]["sets"][set]["ball_regions"][ri];
            v.as_array().unwrap().iter().filter(|x| x.is_null()).count()
        };
        let against = if c["against"] == "test" { 1 } else { 2 };
        let (mt, mo) = if c["metric"] == "ball_regions" {
            (missing(0), missing(against))
        } else {
            (0, 0)
        };
        assert_eq!(c["missing_train"], mt, "{c}");
        assert_eq!(c["missing_other"], mo, "{c}");
        assert_eq!(c["test"]["n_a"].as_u64().unwrap() as usize, 6 - mt);
        // Left-out points are the largest counts: no verdict from the rest.
        if mt + mo > 0 {
            assert_eq!(c["verdict"], "inconclusive", "{c}");
        }
    }
    // report.md: the over-budget table, whose epoch-0 row holds the counts above.
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let at = md
        .find("### Exact ball counts over budget")
        .expect("the table");
    let row0 = md[at..]
        .lines()
        .find(|l| l.starts_with("| 0 |"))
        .unwrap()
        .to_string();
    let cells: Vec<usize> = row0
        .split('|')
        .skip(2)
        .take(2)
        .map(|c| {
            c.split('/')
                .map(|n| n.trim().parse::<usize>().unwrap())
                .sum()
        })
        .collect();
    assert_eq!(cells, over_per_radius.to_vec(), "{row0}");
    // metrics.csv: an empty value over budget, and always the lower bound.
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let empty = csv
        .lines()
        .filter(|l| l.starts_with("0,") && l.contains(",ball_regions,") && l.ends_with(','))
        .count();
    assert_eq!(empty, over);
    assert_eq!(
        csv.lines()
            .filter(|l| l.starts_with("0,") && l.contains(",ball_regions_at_least,"))
            .count(),
        36
    );
    // The plots say how many counts they leave out.
    let svg = std::fs::read_to_string(out.join("ball_r0.4.svg")).unwrap();
    assert!(svg.contains("over budget, left out"), "no mark in the plot");
    let _ = std::fs::remove_dir_all(&out);
}

/// A short replicated study: three seeds in parallel, each seed's study in its folder,
/// pooled verdicts per finding, radius and metric in summary.json, and the report and
/// forest plot; the per-seed effects are those of the seeds' own reports.
#[test]
fn replicated_study_pools_the_seeds() {
    let out = std::env::temp_dir().join(format!("rr-study-seeds-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let v = cli().run_json(&[
        "study",
        "--seeds",
        "3",
        "--seed",
        "5",
        "--epochs",
        "3",
        "--points",
        "12",
        "--samples",
        "200",
        "--radii",
        "0.1,0.3",
        "--arch",
        "2-8-8-2",
        "--adversarial",
        "l2:0.6:10",
        "--quiet",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(v["seeds"], serde_json::json!([5, 6, 7]));
    for file in ["summary.json", "report.md", "forest.png", "forest.svg"] {
        assert!(out.join(file).exists(), "{file}");
    }
    let per_radius = v["f2"]["pooled"]["per_radius"].as_array().unwrap();
    assert_eq!(per_radius.len(), 2);
    for p in per_radius {
        // 2-D data: the exact ball count is the primary metric wherever every seed has it.
        let m = p["metric"].as_str().unwrap();
        assert!(m == "ball_regions" || m == "bound_log2", "{m}");
        assert!(
            ["holds", "does_not_hold", "inconclusive"].contains(&p["verdict"].as_str().unwrap())
        );
    }
    assert!(v["f1"]["pooled"]["holds"].is_boolean());
    // The late phase: LC trend per set and radius over the second half (3 epochs: 2
    // checkpoints in the second half, too few to read a trend).
    assert_eq!(v["late_phase"]["effects"].as_array().unwrap().len(), 2 * 2);
    assert!(
        v["late_phase"]["statement"]
            .as_str()
            .unwrap()
            .contains("too few checkpoints")
    );
    let effects = v["effects"].as_array().unwrap();
    // F1: 3 rows; F2: 2 radii x 5 metrics x 2 comparisons; adversarial examples against
    // their sources: the distance and 2 radii x 5 metrics.
    assert_eq!(effects.len(), 3 + 2 * 5 * 2 + 1 + 2 * 5);
    assert_eq!(
        effects
            .iter()
            .filter(|e| e["finding"] == "adversarial")
            .count(),
        11
    );
    for seed in [5, 6, 7] {
        let dir = out.join(format!("seed_{seed}"));
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
        // The pooled row's per-seed F2 effect is the seed's own comparison.
        let k = (seed - 5) as usize;
        let own = summary["f2"]["comparisons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["checkpoint"] == "last"
                    && c["radius"] == 0.3
                    && c["metric"] == "bound_log2"
                    && c["against"] == "arbitrary"
            })
            .unwrap()["test"]["rank_biserial"]
            .as_f64()
            .unwrap();
        let pooled = effects
            .iter()
            .find(|e| {
                e["finding"] == "f2"
                    && e["radius"] == 0.3
                    && e["metric"] == "bound_log2"
                    && e["against"] == "arbitrary"
            })
            .unwrap()["effects"][k]
            .as_f64()
            .unwrap();
        assert_eq!(own, pooled, "seed {seed}");
        assert_eq!(v["f1"]["per_seed"][k]["verdict"], summary["f1"]["verdict"]);
        assert!(dir.join("report.md").exists() && dir.join("checkpoints").exists());
        assert!(dir.join("points_adversarial.csv").exists());
        let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
        assert!(md.contains("## Adversarial examples against their clean sources"));
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Pooled verdicts") && md.contains("seed_7/report.md"));
    let _ = std::fs::remove_dir_all(&out);
}

/// The seed preset fixes its data, network, points, radii and sets: flags that would
/// change them are refused by name; `--seeds 0` is refused.
#[test]
fn the_seed_preset_refuses_flags_it_fixes() {
    for flag in [
        ["--dataset", "moons"],
        ["--arch", "784-10-10"],
        ["--radii", "0.1"],
        ["--adversarial", "l2:1"],
    ] {
        let out = cli().output(["study", "--preset", "seed", flag[0], flag[1]]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--preset") && err.contains(flag[0]), "{err}");
    }
    let out = cli().output(["study", "--seeds", "0", "--epochs", "1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--seeds must be at least 1"));
}
