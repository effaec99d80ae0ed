//! `relu-regions study [--dataset ...] [--arch ...] ... [--out DIR] [--json]`: train a
//! ReLU MLP, track the local region geometry at training, test and arbitrary points at
//! every checkpoint, and test the seed paper's two findings.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use relu_regions::random::Init;
use relu_regions_study::datasets::DatasetKind;
use relu_regions_study::stats::quartiles;
use relu_regions_study::train::Optimizer;
use relu_regions_study::{Progress, StudyConfig, StudyReport, run_study};

use crate::output::{print_json, progress_bar};
use crate::plot::{
    self, BandChart, BandSeries, ColorBy, DistributionChart, DistributionSeries, Picture,
    thousands, write_band_chart, write_distribution_chart,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InitArg {
    /// PyTorch's nn.Linear default (uniform +-1/sqrt(fan_in)).
    Pytorch,
    /// He normal weights, tiny biases.
    He,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OptimizerArg {
    /// SGD with momentum 0.9.
    Sgd,
    /// Adam (0.9, 0.999, 1e-8).
    Adam,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// moons, circles, spirals, blobs (generated, standardised), digits, mnist (bundled
    /// images scaled to [0, 1]) or csv:FILE (features then an integer label; standardised).
    #[arg(long, default_value = "moons")]
    dataset: String,
    /// Architecture input-hidden...-classes, e.g. 2-32-32-2 (default: two hidden layers of
    /// 32 for 2-D data, 64 otherwise).
    #[arg(long)]
    arch: Option<String>,
    #[arg(long, value_enum, default_value_t = InitArg::Pytorch)]
    init: InitArg,
    #[arg(long, value_enum, default_value_t = OptimizerArg::Adam)]
    optimizer: OptimizerArg,
    /// Learning rate.
    #[arg(long, default_value_t = 0.01)]
    lr: f64,
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Mini-batch size.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Points per set (training, test, arbitrary).
    #[arg(long, default_value_t = 100)]
    points: usize,
    /// L2 radii of the balls, comma-separated, in input units after scaling.
    #[arg(long, value_delimiter = ',', default_value = "0.05,0.1,0.2")]
    radii: Vec<f64>,
    /// Samples drawn by the 2-D generators.
    #[arg(long, default_value_t = 500)]
    samples: usize,
    /// Noise of the 2-D generators (Gaussian standard deviation).
    #[arg(long, default_value_t = 0.1)]
    noise: f64,
    /// Output directory: report.json, summary.json, report.md, metrics.csv, points_<set>.csv, plots (PNG and SVG: metrics
    /// against epoch, distributions at the last checkpoint, for 2-D data the input square's
    /// activation regions at the first, a middle and the last epoch), checkpoints/.
    #[arg(long, default_value = "study")]
    out: PathBuf,
    /// Track a sequence of networks instead of training: every .onnx, .nnet and
    /// .safetensors file in DIR, in natural order of their names (epoch_2 before
    /// epoch_10), on the points of --dataset (which must be the data they were trained on,
    /// scaled as the study scales it).
    #[arg(long, value_name = "DIR")]
    checkpoints: Option<PathBuf>,
    /// Arbitrary points as training points plus Gaussian noise of this standard deviation
    /// (input units after scaling), instead of uniform in the training data's box.
    #[arg(long, value_name = "SIGMA")]
    arbitrary_noise: Option<f64>,
    /// Also write the final network as ONNX (Gemm + Relu, float32; onnxruntime and
    /// PyTorch tools read it).
    #[arg(long, value_name = "FILE")]
    export_onnx: Option<PathBuf>,
    /// Print report.json to stdout.
    #[arg(long)]
    json: bool,
}

/// The tracked points of one set, one per row in the network's input units (a comment
/// line first); row `k` is point `k` of `metrics.csv`, ready for `--center-file F --row
/// K` and `--points F` of the other commands.
fn points_csv(set: &str, points: &faer::Mat<f64>) -> String {
    let mut s = format!(
        "# {set} points of the study, in the network's input units (after scaling); row k is point k of metrics.csv\n"
    );
    for i in 0..points.nrows() {
        let row: Vec<String> = (0..points.ncols())
            .map(|j| format!("{:?}", points[(i, j)]))
            .collect();
        let _ = writeln!(s, "{}", row.join(","));
    }
    s
}

fn metrics_csv(r: &StudyReport) -> String {
    let mut s = String::from("epoch,set,point,metric,radius,value\n");
    for cp in &r.checkpoints {
        for (set, m) in r.point_sets.iter().zip(&cp.sets) {
            for (i, d) in m.distance.iter().enumerate() {
                let _ = writeln!(s, "{},{set},{i},distance,,{d}", cp.epoch);
            }
            for (ri, radius) in r.config.radii.iter().enumerate() {
                for i in 0..m.distance.len() {
                    let _ = writeln!(
                        s,
                        "{e},{set},{i},bound_log2,{radius},{}\n{e},{set},{i},unstable,{radius},{}\n{e},{set},{i},lc,{radius},{}",
                        m.bound_log2[ri][i],
                        m.unstable[ri][i],
                        m.lc[ri][i],
                        e = cp.epoch
                    );
                    if let Some(v) = m.slice_regions.get(ri) {
                        let _ =
                            writeln!(s, "{},{set},{i},slice_regions,{radius},{}", cp.epoch, v[i]);
                    }
                    if let Some(v) = m.ball_regions.get(ri) {
                        let value = v[i].map_or(String::new(), |c| c.to_string());
                        let _ = writeln!(s, "{},{set},{i},ball_regions,{radius},{value}", cp.epoch);
                    }
                }
            }
        }
    }
    s
}

const SET_COLORS: [plotters::style::RGBColor; 3] = [
    plotters::style::RGBColor(31, 119, 180),
    plotters::style::RGBColor(255, 127, 14),
    plotters::style::RGBColor(100, 100, 100),
];

/// Median and quartiles per epoch of one metric, per point set.
fn band_chart(
    r: &StudyReport,
    title: String,
    y_label: &str,
    metric: impl Fn(&relu_regions_study::track::SetMetrics) -> Vec<f64>,
) -> BandChart {
    BandChart {
        title,
        x_label: "epoch".into(),
        y_label: y_label.into(),
        series: (0..3)
            .map(|s| BandSeries {
                label: format!("{} points", r.point_sets[s]),
                color: SET_COLORS[s],
                points: r
                    .checkpoints
                    .iter()
                    .map(|cp| {
                        let v: Vec<f64> = metric(&cp.sets[s])
                            .into_iter()
                            .filter(|v| v.is_finite())
                            .collect();
                        let q = quartiles(&v);
                        (
                            cp.epoch as f64,
                            q.map_or(f64::NAN, |q| q.q1),
                            q.map_or(f64::NAN, |q| q.median),
                            q.map_or(f64::NAN, |q| q.q3),
                        )
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Writes the plots; returns their file stems (relative to the output directory).
fn write_plots(r: &StudyReport, out: &std::path::Path) -> Result<Vec<String>> {
    let mut stems = vec!["distance".to_string()];
    write_band_chart(
        &band_chart(
            r,
            "Distance to the region boundary (median, quartile band)".into(),
            "L2 distance",
            |m| m.distance.clone(),
        ),
        &out.join("distance"),
    )?;
    for (ri, radius) in r.config.radii.iter().enumerate() {
        let stem = format!("bound_r{radius}");
        write_band_chart(
            &band_chart(
                r,
                format!("Local bound on regions in B(x, {radius}) (median, quartile band)"),
                "log2 local bound (CROWN)",
                |m| m.bound_log2[ri].clone(),
            ),
            &out.join(&stem),
        )?;
        stems.push(stem);
        let stem = format!("lc_r{radius}");
        write_band_chart(
            &band_chart(
                r,
                format!("Local complexity (LC) in B(x, {radius}) (median, quartile band)"),
                "neurons changing sign on the frame",
                |m| m.lc[ri].iter().map(|&v| v as f64).collect(),
            ),
            &out.join(&stem),
        )?;
        stems.push(stem);
        let has_slices = r
            .checkpoints
            .iter()
            .all(|cp| cp.sets.iter().all(|m| m.slice_regions.get(ri).is_some()));
        if has_slices {
            let stem = format!("slice_r{radius}");
            write_band_chart(
                &band_chart(
                    r,
                    format!(
                        "Exact regions in a 2-D slice disc of radius {radius} (median, quartile band)"
                    ),
                    "regions",
                    |m| m.slice_regions[ri].iter().map(|&v| v as f64).collect(),
                ),
                &out.join(&stem),
            )?;
            stems.push(stem);
        }
        // Exact ball counts (2-D data), where every checkpoint has them (a count that hit
        // its limits is missing from the quartiles).
        let has_balls = r
            .checkpoints
            .iter()
            .all(|cp| cp.sets.iter().all(|m| m.ball_regions.get(ri).is_some()));
        if has_balls {
            let stem = format!("ball_r{radius}");
            write_band_chart(
                &band_chart(
                    r,
                    format!("Exact regions meeting B(x, {radius}) (median, quartile band)"),
                    "regions",
                    |m| {
                        m.ball_regions[ri]
                            .iter()
                            .map(|v| v.map_or(f64::NAN, |c| c as f64))
                            .collect()
                    },
                ),
                &out.join(&stem),
            )?;
            stems.push(stem);
        }
    }
    Ok(stems)
}

/// The three point sets' samples of one metric at the last checkpoint, per category.
fn last_checkpoint_chart(
    r: &StudyReport,
    title: String,
    y_label: &str,
    categories: Vec<String>,
    metric: impl Fn(&relu_regions_study::track::SetMetrics, usize) -> Vec<f64>,
) -> DistributionChart {
    let last = r.checkpoints.last().expect("epoch 0 at least");
    DistributionChart {
        title,
        x_label: if categories.len() > 1 {
            "ball radius".into()
        } else {
            String::new()
        },
        y_label: y_label.into(),
        series: (0..3)
            .map(|s| DistributionSeries {
                label: format!("{} points", r.point_sets[s]),
                color: SET_COLORS[s],
                values: (0..categories.len())
                    .map(|ci| metric(&last.sets[s], ci))
                    .collect(),
            })
            .collect(),
        categories,
    }
}

/// Writes the distribution plots of every metric at the last checkpoint; returns
/// `(stem, caption)` pairs.
fn write_distribution_plots(
    r: &StudyReport,
    out: &std::path::Path,
) -> Result<Vec<(String, String)>> {
    let last = r.checkpoints.last().expect("epoch 0 at least");
    let epoch = last.epoch;
    let radii: Vec<String> = r.config.radii.iter().map(|x| format!("r = {x}")).collect();
    let counts = |v: &[usize]| v.iter().map(|&c| c as f64).collect::<Vec<f64>>();
    let infinite: usize = last
        .sets
        .iter()
        .map(|m| m.distance.iter().filter(|d| !d.is_finite()).count())
        .sum();
    let mut charts = vec![(
        "dist_distance",
        format!(
            "distance to the region boundary{}",
            if infinite > 0 {
                format!(" ({infinite} infinite distances left out)")
            } else {
                String::new()
            }
        ),
        last_checkpoint_chart(
            r,
            format!("Distance to the region boundary at epoch {epoch}"),
            "L2 distance",
            vec![String::new()],
            |m, _| m.distance.clone(),
        ),
    )];
    charts.push((
        "dist_bound_log2",
        "local bound (log2, CROWN) at each radius".into(),
        last_checkpoint_chart(
            r,
            format!("Local bound on regions in B(x, r) at epoch {epoch}"),
            "log2 local bound (CROWN)",
            radii.clone(),
            |m, ri| m.bound_log2[ri].clone(),
        ),
    ));
    charts.push((
        "dist_unstable",
        "unstable neurons (CROWN) at each radius".into(),
        last_checkpoint_chart(
            r,
            format!("Neurons unstable on B(x, r) at epoch {epoch}"),
            "unstable neurons (CROWN)",
            radii.clone(),
            |m, ri| counts(&m.unstable[ri]),
        ),
    ));
    charts.push((
        "dist_lc",
        "LC at each radius".into(),
        last_checkpoint_chart(
            r,
            format!("Local complexity (LC) in B(x, r) at epoch {epoch}"),
            "neurons changing sign on the frame",
            radii.clone(),
            |m, ri| counts(&m.lc[ri]),
        ),
    ));
    if last.sets.iter().all(|m| !m.slice_regions.is_empty()) {
        charts.push((
            "dist_slice_regions",
            "exact regions in a 2-D slice disc at each radius".into(),
            last_checkpoint_chart(
                r,
                format!("Exact regions in a 2-D slice disc of radius r at epoch {epoch}"),
                "regions",
                radii.clone(),
                |m, ri| counts(&m.slice_regions[ri]),
            ),
        ));
    }
    if last.sets.iter().all(|m| !m.ball_regions.is_empty()) {
        charts.push((
            "dist_ball_regions",
            "exact regions meeting the ball at each radius".into(),
            last_checkpoint_chart(
                r,
                format!("Exact regions meeting B(x, r) at epoch {epoch}"),
                "regions",
                radii,
                |m, ri| {
                    m.ball_regions[ri]
                        .iter()
                        .map(|c| c.map_or(f64::NAN, |c| c as f64))
                        .collect()
                },
            ),
        ));
    }
    let mut stems = Vec::new();
    for (stem, caption, chart) in charts {
        write_distribution_chart(&chart, &out.join(stem))?;
        stems.push((stem.to_string(), caption));
    }
    Ok(stems)
}

/// One picture of the input square's partition.
struct PartitionPicture {
    epoch: usize,
    regions: usize,
    pieces: usize,
    stem: String,
}

/// Padding of the data's bounding box in the partition pictures (fraction of its larger
/// half-side).
const SQUARE_PAD: f64 = 0.05;

/// For 2-D data: the exact partition of the data square into activation regions at the
/// first, a middle and the last checkpoint, training points on top by label. Returns the
/// pictures and a description of the square.
fn write_partitions(
    r: &StudyReport,
    checkpoint_dir: &std::path::Path,
    out: &std::path::Path,
) -> Result<(Vec<PartitionPicture>, String)> {
    let data = relu_regions_study::load_dataset(&r.config)?;
    let files = checkpoint_files(checkpoint_dir)?;
    anyhow::ensure!(
        files.len() == r.checkpoints.len(),
        "{}: {} model files for {} checkpoints",
        checkpoint_dir.display(),
        files.len(),
        r.checkpoints.len()
    );
    let n = files.len();
    let mut chosen = vec![0, (n - 1) / 2, n - 1];
    chosen.dedup();
    let (plane, shape) = relu_regions_study::track::data_square(&data, SQUARE_PAD)?;
    let c = plane.center().to_vec();
    let h = shape.extent();
    let square = format!(
        "[{:.3}, {:.3}] x [{:.3}, {:.3}]",
        c[0] - h,
        c[0] + h,
        c[1] - h,
        c[1] + h
    );
    let dots: Vec<([f64; 2], usize)> = (0..data.train.x.nrows())
        .map(|i| {
            (
                [data.train.x[(i, 0)] - c[0], data.train.x[(i, 1)] - c[1]],
                data.train.y[i],
            )
        })
        .collect();
    let mut pictures = Vec::new();
    for k in chosen {
        let epoch = r.checkpoints[k].epoch;
        let net = relu_regions_io::load_model(&files[k], Default::default())?.network;
        let (_, part) =
            relu_regions_study::track::input_partition(&net, &data, SQUARE_PAD, 2_000_000)
                .with_context(|| format!("partitioning the input square at epoch {epoch}"))?;
        let boundary = part.decision_boundary(Default::default());
        let stem = format!("partition_epoch_{epoch:03}");
        let picture = Picture {
            partition: &part,
            boundary: &boundary,
            decision: Default::default(),
            color_by: ColorBy::Region,
            title: format!(
                "{}  \u{b7}  epoch {epoch}  \u{b7}  {} activation regions  \u{b7}  {} linear pieces",
                r.dataset.name,
                thousands(part.region_count()),
                thousands(part.pieces)
            ),
            subtitle: format!(
                "exact partition of the input square {square} (the training data's box, padded {}%); {} training points",
                SQUARE_PAD * 100.0,
                dots.len()
            ),
            marks: Vec::new(),
            dots: dots.clone(),
            dots_label: "training points (by label)".into(),
            origin: [c[0], c[1]],
            axis_names: ["x1".into(), "x2".into()],
            size: 720,
        };
        plot::write_png(&picture, &out.join(format!("{stem}.png")))?;
        plot::write_svg(&picture, &out.join(format!("{stem}.svg")))?;
        pictures.push(PartitionPicture {
            epoch,
            regions: part.region_count(),
            pieces: part.pieces,
            stem,
        });
    }
    Ok((pictures, square))
}

/// The model files of a directory in natural order of their names.
fn checkpoint_files(dir: &std::path::Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| relu_regions_io::ModelFormat::from_path(p).is_some())
        .collect();
    // Natural order: compare runs of digits as numbers.
    let key = |p: &PathBuf| -> Vec<(String, u64)> {
        let name = p
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let mut out = Vec::new();
        let mut text = String::new();
        let mut num = String::new();
        for ch in name.chars() {
            if ch.is_ascii_digit() {
                num.push(ch);
            } else {
                if !num.is_empty() {
                    out.push((std::mem::take(&mut text), num.parse().unwrap_or(u64::MAX)));
                    num.clear();
                }
                text.push(ch);
            }
        }
        out.push((text, num.parse().unwrap_or(0)));
        out
    };
    files.sort_by_key(key);
    anyhow::ensure!(
        !files.is_empty(),
        "{}: no .onnx, .nnet or .safetensors files",
        dir.display()
    );
    Ok(files)
}

pub fn run(args: &Args) -> Result<()> {
    let mut config = StudyConfig::default_for(DatasetKind::parse(&args.dataset)?);
    config.arch = args.arch.clone().unwrap_or_default();
    config.init = match args.init {
        InitArg::Pytorch => Init::PytorchDefault,
        InitArg::He => Init::He,
    };
    config.optimizer = match args.optimizer {
        OptimizerArg::Sgd => Optimizer::Sgd { momentum: 0.9 },
        OptimizerArg::Adam => Optimizer::Adam,
    };
    config.lr = args.lr;
    config.epochs = args.epochs;
    config.batch = args.batch;
    config.seed = args.seed;
    config.points = args.points;
    config.radii = args.radii.clone();
    config.samples = args.samples;
    config.noise = args.noise;
    config.arbitrary_noise = args.arbitrary_noise;

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let bar = progress_bar(args.epochs as u64 + 1, "train + track", args.json);
    let report = if let Some(dir) = &args.checkpoints {
        let files = checkpoint_files(dir)?;
        let networks = files
            .iter()
            .map(|f| Ok(relu_regions_io::load_model(f, Default::default())?.network))
            .collect::<Result<Vec<_>>>()?;
        bar.set_length(networks.len() as u64);
        relu_regions_study::track_networks(
            &config,
            &networks,
            &dir.display().to_string(),
            &mut |p| match p {
                Progress::Checkpoint { .. } => bar.inc(1),
            },
        )?
    } else {
        run_study(&config, &args.out.join("checkpoints"), &mut |p| match p {
            Progress::Checkpoint { .. } => bar.inc(1),
        })?
    };
    bar.finish_and_clear();

    let json = serde_json::to_string_pretty(&report)?;
    std::fs::write(args.out.join("report.json"), &json)
        .with_context(|| format!("cannot write {}", args.out.join("report.json").display()))?;
    // The verdicts alone, with their statistics: `f1` and `f2` at the top level.
    let summary = serde_json::json!({
        "dataset": report.dataset.name,
        "f1": report.findings.f1,
        "f2": report.findings.f2,
    });
    std::fs::write(
        args.out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )
    .with_context(|| format!("cannot write {}", args.out.join("summary.json").display()))?;
    let mut md = relu_regions_study::report::markdown(&report);
    let stems = write_plots(&report, &args.out)?;
    md.push_str("\n## Plots\n\n");
    for stem in &stems {
        let _ = writeln!(md, "![{stem}]({stem}.png)\n");
    }
    let last_epoch = report.checkpoints.last().map_or(0, |cp| cp.epoch);
    let _ = writeln!(
        md,
        "## Distributions at the last checkpoint (epoch {last_epoch})\n\nEach metric at every tracked point of the three sets: boxes from the first to the third quartile with the median, whiskers to the furthest values within 1.5 interquartile ranges, every point on top (jittered sideways).\n"
    );
    for (stem, caption) in write_distribution_plots(&report, &args.out)? {
        let _ = writeln!(
            md,
            "![{stem}]({stem}.png)\n\n*{caption}* ([SVG]({stem}.svg))\n"
        );
    }
    if report.dataset.dim == 2 {
        let dir = args
            .checkpoints
            .clone()
            .unwrap_or_else(|| args.out.join("checkpoints"));
        // The report stands without the pictures: a failure (e.g. more regions than the
        // limit) is said in it, not fatal.
        match write_partitions(&report, &dir, &args.out) {
            Ok((pictures, square)) => {
                let _ = writeln!(
                    md,
                    "## Activation regions of the input square\n\nThe exact partition of the square {square} (input units after scaling; the training data's bounding box padded by {}% of its larger half-side, made square) into the activation regions of the network at {} checkpoints, by the exact 2-D partition of the library (every region checked by a forward pass). Regions in distinct colours, the decision boundary in red, the training points on top coloured by label.\n\n| epoch | activation regions | linear pieces | picture |\n|---|---|---|---|",
                    SQUARE_PAD * 100.0,
                    pictures.len()
                );
                for p in &pictures {
                    let _ = writeln!(
                        md,
                        "| {} | {} | {} | [{}.png]({}.png) |",
                        p.epoch, p.regions, p.pieces, p.stem, p.stem
                    );
                }
                md.push('\n');
                for p in &pictures {
                    let _ = writeln!(
                        md,
                        "**Epoch {}: {} activation regions** ({} linear pieces)\n\n![{}]({}.png)\n",
                        p.epoch, p.regions, p.pieces, p.stem, p.stem
                    );
                }
            }
            Err(e) => {
                eprintln!("warning: input-square partitions not drawn: {e:#}");
                let _ = writeln!(
                    md,
                    "## Activation regions of the input square\n\nNot drawn: {e:#}\n"
                );
            }
        }
    }
    std::fs::write(args.out.join("report.md"), &md)?;
    std::fs::write(args.out.join("metrics.csv"), metrics_csv(&report))?;
    for (name, points) in report.point_sets.iter().zip(&report.tracked_points) {
        let path = args.out.join(format!("points_{name}.csv"));
        std::fs::write(&path, points_csv(name.name(), points))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.export_onnx {
        let dir = args
            .checkpoints
            .clone()
            .unwrap_or_else(|| args.out.join("checkpoints"));
        let last = checkpoint_files(&dir)?
            .pop()
            .with_context(|| format!("no checkpoint in {}", dir.display()))?;
        let net = relu_regions_io::load_model(&last, Default::default())?.network;
        std::fs::write(path, relu_regions_io::onnx::write_onnx(&net))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }

    if args.json {
        return print_json(&report);
    }
    let last = report.checkpoints.last().expect("epoch 0 at least");
    if report.source != "trained" {
        println!("tracked checkpoints from {}", report.source);
    }
    println!(
        "study: {} ({} train / {} test, {}), network {}, {} epochs",
        report.dataset.name,
        report.dataset.n_train,
        report.dataset.n_test,
        report.dataset.scaling,
        report.config.arch,
        report.config.epochs
    );
    println!(
        "final accuracy: train {:.3}, test {:.3}; time: training {:.1} s, tracking {:.1} s",
        last.train_accuracy, last.test_accuracy, report.train_seconds, report.track_seconds
    );
    println!();
    println!("{}", report.findings.f1.statement);
    println!();
    println!("{}", report.findings.f2.statement);
    println!();
    println!(
        "wrote {}/report.md, report.json, summary.json, metrics.csv, points_*.csv, plots (PNG, SVG){} and {} checkpoints in checkpoints/",
        args.out.display(),
        if report.dataset.dim == 2 {
            ", input-square partitions"
        } else {
            ""
        },
        report.checkpoints.len()
    );
    Ok(())
}
