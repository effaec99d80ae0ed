//! Leaky ReLU networks through every command: a 2-D `LeakyRelu(0.05)` network
//! (`data/networks/leaky/leaky_2d.onnx`) counted, sliced, bounded, walked and measured,
//! with every region's interior point checked by an independent forward pass, and the
//! `--activation` option of weights-only checkpoints.

use relu_regions_testkit::{bundled_data as data, load_network, reference_points, temp_dir};
use serde_json::Value;

use crate::cli;

const LEAKY_2D: &str = "networks/leaky/leaky_2d.onnx";

#[test]
fn a_leaky_network_through_every_command() {
    let path = data(LEAKY_2D);
    let model = path.to_str().unwrap();
    let net = load_network(&path);
    let v = cli().run_json(&["inspect", model, "--json"]);
    assert_eq!(
        v["activations"],
        serde_json::json!(["leaky_relu:0.05", "leaky_relu:0.05"])
    );
    // eval against onnxruntime, through the command.
    let rows = reference_points(&path);
    let inputs: Vec<&Vec<f64>> = rows.iter().map(|r| &r.input).collect();
    let dir = temp_dir("cli-leaky");
    let points = dir.join("points.json");
    std::fs::write(&points, serde_json::to_string(&inputs).unwrap()).unwrap();
    let e = cli().run_json(&[
        "eval",
        model,
        "--points",
        points.to_str().unwrap(),
        "--json",
    ]);
    for (got, row) in e["outputs"].as_array().unwrap().iter().zip(&rows) {
        let a = got[0].as_f64().unwrap();
        assert!((a - row.output[0]).abs() <= 1e-5 * row.output[0].abs().max(1.0));
    }
    for (center, radius) in [("0,0", "1"), ("0.3,-0.2", "0.25")] {
        let out = dir.join("regions.jsonl");
        let count = cli().run_json(&[
            "count",
            model,
            "--center",
            center,
            "--radius",
            radius,
            "--norm",
            "linf",
            "--regions-out",
            out.to_str().unwrap(),
            "--quiet",
            "--json",
        ]);
        assert_eq!(count["exact"], true, "{count}");
        let regions = count["regions"].as_u64().unwrap();
        assert!(regions > 10, "{count}");
        // Every interior point has its region's pattern, by a forward pass.
        let lines: Vec<Value> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len() as u64, regions);
        for l in &lines {
            let x: Vec<f64> = l["interior_point"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let p: String = net
                .pattern(&x)
                .unwrap()
                .iter()
                .map(|b| if b { '1' } else { '0' })
                .collect();
            assert_eq!(p, l["pattern"].as_str().unwrap());
        }
        let slice = cli().run_json(&[
            "slice", model, "--center", center, "--radius", radius, "--dirs", "1,0;0,1", "--shape",
            "square", "--json",
        ]);
        assert_eq!(slice["uncertain"], 0, "{slice}");
        assert_eq!(
            slice["regions"].as_u64().unwrap(),
            regions,
            "{center} {radius}"
        );
        assert!(slice["max_output_error"].as_f64().unwrap() < 1e-12);
        let bound = cli().run_json(&[
            "bound", model, "--center", center, "--radius", radius, "--norm", "linf", "--json",
        ]);
        let log2 = bound["local_bound_log2"].as_f64().unwrap();
        assert!(log2 >= (regions as f64).log2() - 1e-9, "{bound}");
    }
    let line = cli().run_json(&["line", model, "--from", "-1,-1", "--to", "1,1", "--json"]);
    assert_eq!(line["exact"], true);
    assert!(line["pieces"].as_u64().unwrap() > 5);
    let d = cli().run_json(&["distance", model, "--point", "0.1,0.2", "--json"]);
    let r = d["points"][0]["distance"].as_f64().unwrap();
    let q: Vec<f64> = d["points"][0]["nearest_point"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    // The nearest point is at distance r, on the boundary of the region: just past it
    // the pattern differs, and every point closer keeps it.
    let x = [0.1, 0.2];
    let home = net.pattern(&x).unwrap();
    let at = |t: f64| [x[0] + t * (q[0] - x[0]), x[1] + t * (q[1] - x[1])];
    assert!(((q[0] - x[0]).hypot(q[1] - x[1]) - r).abs() < 1e-12);
    assert_eq!(net.pattern(&at(0.999)).unwrap(), home);
    assert_ne!(net.pattern(&at(1.001)).unwrap(), home);
}

#[test]
fn the_activation_option_is_for_weights_only_checkpoints() {
    let onnx = data(LEAKY_2D);
    let out = cli().output([
        "inspect",
        onnx.to_str().unwrap(),
        "--activation",
        "leaky_relu:0.1",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("names its own activations"), "{err}");
    // A safetensors checkpoint of the same weights: ReLU with a note by default, leaky
    // when told.
    let relu = relu_regions::Network::new(load_network(&onnx).layers().to_vec(), false).unwrap();
    let dir = temp_dir("cli-activation");
    let st = dir.join("leaky.safetensors");
    relu_regions_io::safetensors::write_safetensors(&relu, &st).unwrap();
    let st = st.to_str().unwrap();
    let out = cli().output(["inspect", st]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("assumed to be ReLU"));
    let v = cli().run_json(&["inspect", st, "--activation", "leaky_relu:0.05", "--json"]);
    assert_eq!(
        v["activations"],
        serde_json::json!(["leaky_relu:0.05", "leaky_relu:0.05"])
    );
    assert_eq!(v["assumptions"], serde_json::json!([]));
    let e = cli().run_json(&[
        "eval",
        st,
        "--activation",
        "leaky_relu:0.05",
        "--point",
        "-0.4,0.7",
        "--json",
    ]);
    let want = relu
        .with_negative_slopes(vec![vec![0.05; 16], vec![0.05; 16]])
        .unwrap()
        .forward(&[-0.4, 0.7])
        .unwrap();
    let got = e["outputs"][0][0].as_f64().unwrap();
    assert!(
        (got - want[0]).abs() < 1e-6 * want[0].abs().max(1.0),
        "{got} vs {want:?}"
    );
    let out = cli().output(["inspect", st, "--activation", "leaky_relu:3"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--activation") && err.contains("[0, 1]"),
        "{err}"
    );
}
