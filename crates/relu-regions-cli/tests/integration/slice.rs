//! Exact 2-D slices: the `slice` command (JSON keys, pictures, region lines, errors) on
//! the bundled ACAS Xu network, and the library's partition on ACAS Xu at the Reluplex
//! points and on mnistfc through MNIST images (where `../shared/networks` exists; CI sets
//! `RELU_REGIONS_REQUIRE_SHARED=1` to make those mandatory).

use std::collections::HashSet;

use relu_regions::slice::plane::{Plane, Shape};
use relu_regions_io::read_points;
use relu_regions_testkit::{
    bundled_data as data, check_plane_partition, load_network, shared_mnist_images,
    shared_networks, temp_dir,
};
use serde_json::Value;

use crate::cli;

const ACAS: &str = "networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet";
const POINTS: &str = "networks/acasxu/points_1_1.csv";

#[test]
fn slice_json_keys_pictures_and_region_lines() {
    let dir = temp_dir("slice-keys");
    let (png, svg, lines) = (
        dir.join("s.png"),
        dir.join("s.svg"),
        dir.join("regions.jsonl"),
    );
    let v = cli().run_json(&[
        "slice",
        data(ACAS).to_str().unwrap(),
        "--center-file",
        data(POINTS).to_str().unwrap(),
        "--row",
        "3",
        "--random-dirs",
        "1",
        "--radius",
        "0.1",
        "--argmin",
        "--png",
        png.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
        "--regions-out",
        lines.to_str().unwrap(),
        "--json",
    ]);
    for key in [
        "regions",
        "pieces",
        "area_total",
        "shape_area",
        "unverified",
        "decision_boundary_segments",
        "decision_boundary_length",
        "class_areas",
        "merged_slivers",
    ] {
        assert!(v.get(key).is_some(), "missing key {key}: {v}");
    }
    let regions = v["regions"].as_u64().unwrap();
    assert!(regions > 100, "{regions}");
    assert!(v["pieces"].as_u64().unwrap() <= regions);
    assert_eq!(v["unverified"], 0);
    let (total, shape) = (
        v["area_total"].as_f64().unwrap(),
        v["shape_area"].as_f64().unwrap(),
    );
    assert!((total - shape).abs() < 1e-9 * shape);
    // The 256-gon inscribed in the disc of radius 0.1.
    let n = 256.0_f64;
    let exact = 0.5 * n * 0.01 * (std::f64::consts::TAU / n).sin();
    assert!((shape - exact).abs() < 1e-15);
    // This slice crosses the advisory boundary (COC to weak left and strong left).
    let segments = v["decision_boundary_segments"].as_array().unwrap();
    assert!(!segments.is_empty());
    assert_eq!(segments[0].as_array().unwrap().len(), 2);
    let class_total: f64 = v["class_areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_f64().unwrap())
        .sum();
    assert!((class_total - shape).abs() < 1e-9 * shape);
    // Pictures.
    let png_bytes = std::fs::read(&png).unwrap();
    assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png_bytes.len() > 30_000, "{} bytes", png_bytes.len());
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.contains("<svg") && svg_text.matches("<polygon").count() as u64 >= regions);
    assert!(svg_text.contains("regions"));
    // Region lines.
    let text = std::fs::read_to_string(&lines).unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len() as u64, regions);
    let mut area = 0.0;
    let mut patterns = HashSet::new();
    for row in &rows {
        let p = row["pattern"].as_str().unwrap();
        assert_eq!(p.len(), 300);
        assert!(p.chars().all(|c| c == '0' || c == '1'));
        patterns.insert(p.to_string());
        assert!(row["vertices"].as_array().unwrap().len() >= 3);
        assert_eq!(row["interior"].as_array().unwrap().len(), 2);
        assert_eq!(row["output"]["slope"].as_array().unwrap().len(), 5);
        assert_eq!(row["output"]["offset"].as_array().unwrap().len(), 5);
        assert_eq!(row["verified"], true);
        area += row["area"].as_f64().unwrap();
    }
    assert_eq!(patterns.len(), rows.len());
    assert!((area - total).abs() < 1e-12);
    std::fs::remove_dir_all(&dir).ok();
}

/// `--through A;B` puts A at (1, 0) and B at (0, 1): the region holding (1, 0) has A's
/// pattern as `eval` computes it; `--normalize` changes the coordinates, not the plane.
#[test]
fn slice_through_points_agrees_with_eval() {
    let dir = temp_dir("slice-through");
    let lines = dir.join("regions.jsonl");
    let (c, a, b) = (
        "0.2,-0.1,0,-0.3,0.4",
        "0.25,-0.1,0.02,-0.3,0.4",
        "0.2,-0.05,0,-0.28,0.4",
    );
    let through = format!("{a};{b}");
    let v = cli().run_json(&[
        "slice",
        data(ACAS).to_str().unwrap(),
        "--center",
        c,
        "--through",
        &through,
        "--radius",
        "1.5",
        "--shape",
        "square",
        "--regions-out",
        lines.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(v["unverified"], 0);
    assert_eq!(v["shape_area"].as_f64().unwrap(), 9.0);
    let e = cli().run_json(&[
        "eval",
        data(ACAS).to_str().unwrap(),
        "--point",
        a,
        "--point",
        b,
        "--full-pattern",
        "--json",
    ]);
    let text = std::fs::read_to_string(&lines).unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (k, at) in [(0, [1.0, 0.0]), (1, [0.0, 1.0])] {
        let want = e["points"][k]["pattern"].as_str().unwrap();
        let holder: Vec<&Value> = rows
            .iter()
            .filter(|r| {
                let poly: Vec<[f64; 2]> = r["vertices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
                    .collect();
                relu_regions::geometry::polygon::contains(&poly, at)
            })
            .collect();
        assert_eq!(holder.len(), 1, "point {k}");
        assert_eq!(holder[0]["pattern"].as_str().unwrap(), want, "point {k}");
    }
    // Orthonormalised: the same plane in Euclidean coordinates, so a disc of radius |A - C|
    // contains the segment from C to A and meets its regions.
    let n = cli().run_json(&[
        "slice",
        data(ACAS).to_str().unwrap(),
        "--center",
        c,
        "--through",
        &through,
        "--normalize",
        "--radius",
        "0.06",
        "--json",
    ]);
    assert!((n["u_norm"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    assert!(n["cos_uv"].as_f64().unwrap().abs() < 1e-12);
    assert_eq!(n["unverified"], 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn slice_colour_modes_and_text_output() {
    let dir = temp_dir("slice-modes");
    for mode in ["region", "class", "slope"] {
        let png = dir.join(format!("{mode}.png"));
        let out = cli().output([
            "slice",
            data(ACAS).to_str().unwrap(),
            "--center-file",
            data(POINTS).to_str().unwrap(),
            "--row",
            "0",
            "--random-dirs",
            "0",
            "--radius",
            "0.2",
            "--shape",
            "square",
            "--color-by",
            mode,
            "--size",
            "400",
            "--png",
            png.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("activation regions"), "{text}");
        assert!(text.contains("linear pieces"), "{text}");
        assert!(std::fs::metadata(&png).unwrap().len() > 10_000);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn slice_bad_input_gives_clear_errors() {
    let model = data(ACAS);
    let model = model.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "slice",
                model,
                "--center",
                "0,0,0,0,0",
                "--dirs",
                "1,0,0,0,0;2,0,0,0,0",
                "--radius",
                "1",
            ],
            "parallel",
        ),
        (
            vec![
                "slice",
                model,
                "--center",
                "0,0,0",
                "--random-dirs",
                "1",
                "--radius",
                "1",
            ],
            "has 3 coordinates but the network takes 5",
        ),
        (
            vec![
                "slice",
                model,
                "--center",
                "0,0,0,0,0",
                "--dirs",
                "1,0,0,0,0",
                "--radius",
                "1",
            ],
            "separated by ';'",
        ),
        (
            vec![
                "slice",
                model,
                "--center",
                "0,0,0,0,0",
                "--random-dirs",
                "1",
                "--radius",
                "0",
            ],
            "--radius must be a positive number",
        ),
        (
            vec!["slice", model, "--center", "0,0,0,0,0", "--radius", "1"],
            "required",
        ),
    ];
    for (args, needle) in cases {
        let out = cli().output(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// ACAS Xu at the five Reluplex points, random planes, discs and squares; the inscribed
/// polygon's regions are among the circumscribed one's.
#[test]
fn slice_acasxu_at_reluplex_points() {
    let net = load_network(&data(ACAS));
    let points = read_points(&data(POINTS)).unwrap();
    for (k, x) in points.iter().enumerate() {
        for seed in 0..2 {
            let plane = Plane::random_orthonormal(x.clone(), seed).unwrap();
            let inner = check_plane_partition(
                &net,
                &plane,
                Shape::disc(0.08),
                150,
                &format!("point {k}, seed {seed}"),
            );
            let outer = check_plane_partition(
                &net,
                &plane,
                Shape::Disc {
                    radius: 0.08,
                    vertices: 256,
                    circumscribed: true,
                },
                150,
                &format!("point {k}, seed {seed}, circumscribed"),
            );
            let outer_patterns: HashSet<_> = outer.regions.iter().map(|r| &r.pattern).collect();
            assert!(
                inner
                    .regions
                    .iter()
                    .all(|r| outer_patterns.contains(&r.pattern))
            );
            assert!(inner.region_count() <= outer.region_count());
            check_plane_partition(
                &net,
                &plane,
                Shape::square(0.05),
                150,
                &format!("point {k}, square"),
            );
        }
    }
}

/// mnistfc through MNIST images: planes through three images and random planes.
#[test]
fn slice_mnistfc_through_images() {
    let Some(dir) = shared_networks() else { return };
    let rows = shared_mnist_images(&dir);
    for (name, radius) in [("mnist-net_256x2", 0.5), ("mnist-net_256x6", 0.25)] {
        let net = load_network(&dir.join(format!("mnistfc/{name}.onnx")));
        for k in 0..2 {
            let plane =
                Plane::through(rows[3 * k].clone(), &rows[3 * k + 1], &rows[3 * k + 2]).unwrap();
            let part = check_plane_partition(
                &net,
                &plane,
                Shape::square(radius),
                120,
                &format!("{name} through images {}", 3 * k),
            );
            assert!(part.region_count() > 20, "{name}: {}", part.region_count());
            assert!(part.max_output_error < 1e-8);
            let random = Plane::random_orthonormal(rows[k].clone(), k as u64).unwrap();
            check_plane_partition(
                &net,
                &random,
                Shape::disc(2.0),
                100,
                &format!("{name} random at image {k}"),
            );
        }
    }
}

/// The CLI on an MNIST image with label and pixel columns.
#[test]
fn slice_cli_on_mnist_rows() {
    let Some(dir) = shared_networks() else { return };
    let out = temp_dir("slice-mnist");
    let png = out.join("m.png");
    let v = cli().run_json(&[
        "slice",
        dir.join("mnistfc/mnist-net_256x2.onnx").to_str().unwrap(),
        "--center-file",
        dir.join("mnist_test_images/mnist_test_first100.csv")
            .to_str()
            .unwrap(),
        "--row",
        "0",
        "--skip-columns",
        "1",
        "--scale",
        "0.00392156862745098",
        "--through-rows",
        "1;2",
        "--radius",
        "1.2",
        "--shape",
        "square",
        "--color-by",
        "class",
        "--png",
        png.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(v["unverified"], 0);
    // The first test image is a 7, the next a 2 and a 1: the plane through them crosses
    // class boundaries, and the class at the centre is 7.
    assert_eq!(v["centre_class"], 7);
    assert!(
        v["decision_boundary_segments"].as_array().unwrap().len() > 10,
        "{}",
        v["decision_boundary_segments"]
    );
    let areas = v["class_areas"].as_array().unwrap();
    assert!(areas.iter().filter(|a| a.as_f64().unwrap() > 0.0).count() >= 3);
    assert!(std::fs::metadata(&png).unwrap().len() > 30_000);
    std::fs::remove_dir_all(&out).ok();
}
