//! `relu-regions demo`: the main job on bundled defaults.

use std::path::PathBuf;

use anyhow::{Result, bail};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The bundled data directory (default: ./data, else the one in the source tree).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Where the slice step writes its picture.
    #[arg(long, default_value = "relu-regions-slice.png")]
    picture: PathBuf,
    /// Print every report as JSON.
    #[arg(long)]
    json: bool,
}

fn data_dir(args: &DemoArgs) -> Result<PathBuf> {
    let candidates = match &args.data {
        Some(d) => vec![d.clone()],
        None => vec![
            PathBuf::from("data"),
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data")),
        ],
    };
    for c in &candidates {
        if c.join("networks/acasxu").is_dir() {
            return Ok(c.clone());
        }
    }
    bail!(
        "bundled data not found (looked in {}); run from the repository root or pass --data",
        candidates
            .iter()
            .map(|c| c.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

pub fn run(args: &DemoArgs) -> Result<()> {
    let data = data_dir(args)?;
    let model = data.join("networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet");
    let points = data.join("networks/acasxu/points_1_1.csv");
    let model = model.display().to_string();
    let points = points.display().to_string();
    let picture = args.picture.display().to_string();
    let slice_title = format!(
        "exact 2-D slice: the disc of radius 0.1 around Reluplex point 3 in a random plane, picture in {picture}"
    );
    let steps: Vec<(&str, Vec<&str>)> = vec![
        ("the network", vec!["inspect", &model]),
        (
            "outputs and activation patterns at the 5 Reluplex points (normalised units)",
            vec!["eval", &model, "--points", &points],
        ),
        (
            "exact L2 distance from each point to the boundary of its activation region",
            vec!["distance", &model, "--points", &points, "--norm", "l2"],
        ),
        (
            "exact L-inf distance (the norm of VNN-LIB robustness boxes)",
            vec!["distance", &model, "--points", &points, "--norm", "linf"],
        ),
        (
            "proven bound and sampled lower bound on the regions in the L-inf ball of radius 0.01 around Reluplex point 1",
            vec![
                "bound",
                &model,
                "--center-file",
                &points,
                "--row",
                "1",
                "--radius",
                "0.01",
                "--norm",
                "linf",
            ],
        ),
        (
            "exact count of the regions in that ball (every region with nonempty interior)",
            vec![
                "count",
                &model,
                "--center-file",
                &points,
                "--row",
                "1",
                "--radius",
                "0.01",
                "--norm",
                "linf",
            ],
        ),
        (
            "exact regions along the diagonal of the normalised input box",
            vec![
                "line",
                &model,
                "--from=-0.3284,-0.5,-0.5,-0.5,-0.5",
                "--to=0.6799,0.5,0.5,0.5,0.5",
                "--no-points",
            ],
        ),
        (
            &slice_title,
            vec![
                "slice",
                &model,
                "--center-file",
                &points,
                "--row",
                "3",
                "--random-dirs",
                "1",
                "--radius",
                "0.1",
                "--argmin",
                "--png",
                &picture,
            ],
        ),
    ];
    for (title, argv) in steps {
        if !args.json {
            println!("\n== {title}\n$ relu-regions {}", argv.join(" "));
        }
        let mut full: Vec<String> = vec!["relu-regions".into()];
        full.extend(argv.iter().map(|s| s.to_string()));
        if args.json {
            full.push("--json".into());
        }
        crate::run_args(&full)?;
    }
    Ok(())
}
