//! `relu-regions study [--dataset ...] [--arch ...] ... [--out DIR] [--json]`: train a
//! ReLU MLP, track the local region geometry at training, test and arbitrary points at
//! every checkpoint, and test the seed paper's two findings.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use relu_regions::random::Init;
use relu_regions_study::datasets::DatasetKind;
use relu_regions_study::report::{Figures, markdown};
use relu_regions_study::train::Optimizer;
use relu_regions_study::{ControlFlow, StudyConfig, StudyProgress, StudyRun, run_study};

use crate::output::{self, print_json};

mod charts;
mod files;

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

/// Ready-made studies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PresetArg {
    /// The setting closest to the seed paper's: MNIST-5k, 784-128-128-128-10, 5 seeds,
    /// 10 epochs, 50 points per set, L2 radii 0.1, 0.5, 1; adversarial examples (PGD,
    /// L-inf 0.05, 20 steps) and a backdoor (5% of the training images); exact ball counts
    /// where they finish in 0.1 s per point, the local bound everywhere. Other flags
    /// (--epochs, --seeds, --seed, --out, --ball-seconds, ...) still apply.
    Seed,
}

#[derive(Debug, clap::Args)]
pub struct StudyArgs {
    /// A ready-made study; it fixes the dataset, architecture, points, radii and the
    /// adversarial and backdoor sets.
    #[arg(long, value_enum, conflicts_with_all = ["dataset", "arch", "points", "radii", "adversarial", "backdoor", "checkpoints"])]
    preset: Option<PresetArg>,
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
    /// Training epochs (default 30; 10 with --preset seed).
    #[arg(long)]
    epochs: Option<usize>,
    /// Mini-batch size.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Replicate over N seeds (--seed, --seed + 1, ..., in parallel): every seed's study in
    /// OUT/seed_<s>/, and in OUT the pooled verdicts per finding, radius and metric (sign
    /// test over the seeds, random-effects mean of the effect sizes with a 95% interval),
    /// report.md, summary.json and a forest plot (forest.png, .svg). Default 1 (5 with
    /// --preset seed).
    #[arg(long, value_name = "N")]
    seeds: Option<usize>,
    /// Points per set (training, test, arbitrary).
    #[arg(long, default_value_t = 100)]
    points: usize,
    /// L2 radii of the balls, comma-separated, in input units after scaling.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.05,0.1,0.2",
        allow_negative_numbers = true
    )]
    radii: Vec<f64>,
    /// Wall-clock budget in seconds of each point's exact ball counts per checkpoint (all
    /// radii, smallest first; a count that does not finish, and those at larger radii, are
    /// reported over budget with the regions found as a lower bound, left out of the
    /// statistics and counted in the report). Default: 10 for 2-D data, 0.1 otherwise (1 with --preset seed); 0
    /// turns the exact ball counts off.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    ball_seconds: Option<f64>,
    /// The most regions of one exact ball count.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    ball_max_regions: u64,
    /// The largest radius with exact ball counts (default: every radius; 0.02 with
    /// --preset seed); the larger radii are reported over budget.
    #[arg(long, value_name = "R", allow_negative_numbers = true)]
    ball_max_radius: Option<f64>,
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
    /// With --checkpoints of .safetensors files (weights only): their activation, `relu`
    /// (assumed when absent, with a note) or `leaky_relu:ALPHA` (as `inspect
    /// --activation`).
    #[arg(long, value_name = "relu|leaky_relu:ALPHA", requires = "checkpoints")]
    activation: Option<relu_regions_io::Activation>,
    /// Attack the tracked test points at every checkpoint by PGD with the network's exact
    /// gradient, `linf:RADIUS[:STEPS]` or `l2:RADIUS[:STEPS]` (20 steps by default; image
    /// data stays in [0, 1]); the adversarial examples found are tracked beside their
    /// clean sources and compared with them (paired), with the attack's success rate.
    #[arg(long, value_name = "NORM:RADIUS[:STEPS]", value_parser = relu_regions_study::attack::AttackConfig::parse)]
    adversarial: Option<relu_regions_study::attack::AttackConfig>,
    /// Poison this fraction of the training images (default 0.05 when the flag is given
    /// alone) with a trigger, a white square in the bottom-right corner, relabelled to
    /// --backdoor-target (BadNets; image data only); the report gives the clean accuracy
    /// and the attack success rate, and compares the tracked training and test points with
    /// the trigger against their clean twins.
    #[arg(long, value_name = "FRACTION", num_args = 0..=1, default_missing_value = "0.05")]
    backdoor: Option<f64>,
    /// The class the backdoor's trigger maps to.
    #[arg(long, default_value_t = 0, value_name = "CLASS", requires = "backdoor")]
    backdoor_target: usize,
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
    /// No progress on stderr (by default a bar on a terminal, otherwise a line every 5 s).
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: &StudyArgs) -> Result<()> {
    let config = config_of(args)?;
    let seeds = args.seeds.unwrap_or(match args.preset {
        Some(PresetArg::Seed) => relu_regions_study::SEED_PRESET_SEEDS,
        None => 1,
    });
    if seeds == 0 {
        anyhow::bail!("--seeds must be at least 1");
    }
    if seeds > 1 {
        if args.checkpoints.is_some() || args.export_onnx.is_some() {
            anyhow::bail!(
                "--seeds trains one network per seed: it cannot be combined with --checkpoints or --export-onnx"
            );
        }
        return run_replicated(args, &config, seeds);
    }
    run_single(args, &config)
}

/// The study configuration of the arguments.
fn config_of(args: &StudyArgs) -> Result<StudyConfig> {
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
    config.epochs = args.epochs.unwrap_or(30);
    config.batch = args.batch;
    config.seed = args.seed;
    config.points = args.points;
    config.radii = args.radii.clone();
    config.samples = args.samples;
    config.noise = args.noise;
    config.arbitrary_noise = args.arbitrary_noise;
    config.ball_seconds = args.ball_seconds;
    config.ball_max_regions = args.ball_max_regions;
    config.ball_max_radius = args.ball_max_radius;
    config.adversarial = args.adversarial;
    config.backdoor = args
        .backdoor
        .map(|fraction| relu_regions_study::backdoor::BackdoorConfig {
            fraction,
            target: args.backdoor_target,
        });
    if args.preset == Some(PresetArg::Seed) {
        // The flags it fixes conflict with it (clap); the others still apply.
        let preset = StudyConfig::seed_preset(args.backdoor_target);
        config.dataset = preset.dataset;
        config.arch = preset.arch;
        config.epochs = args.epochs.unwrap_or(preset.epochs);
        config.points = preset.points;
        config.radii = preset.radii;
        config.adversarial = preset.adversarial;
        config.backdoor = preset.backdoor;
        config.ball_seconds = args.ball_seconds.or(preset.ball_seconds);
        config.ball_max_radius = args.ball_max_radius.or(preset.ball_max_radius);
    }
    Ok(config)
}

/// One study, written to `--out`.
fn run_single(args: &StudyArgs, config: &StudyConfig) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let bar = output::Progress::bar(config.epochs as u64 + 1, "train + track", args.quiet);
    let on_checkpoint = checkpoint_step(&bar);
    let mut step = |p: StudyProgress| on_checkpoint(p);
    let run = if let Some(dir) = &args.checkpoints {
        let networks = files::checkpoint_files(dir)?
            .iter()
            .map(|f| {
                let options = relu_regions_io::LoadOptions {
                    activation: checkpoint_activation(args, f),
                    ..Default::default()
                };
                let loaded = relu_regions_io::load_model(f, options)?;
                for a in &loaded.assumptions {
                    eprintln!("note: {}: {a}", f.display());
                }
                Ok(loaded.network)
            })
            .collect::<Result<Vec<_>>>()?;
        bar.set_length(networks.len() as u64);
        relu_regions_study::track_networks(config, networks, &dir.display().to_string(), &mut step)?
    } else {
        run_study(config, &mut step)?
    };
    bar.finish_and_clear();
    let report = &run.report;
    write_run(&run, &args.out, args.checkpoints.is_none())?;
    if let Some(path) = &args.export_onnx {
        let last = run.networks.last().context("no checkpoint to export")?;
        std::fs::write(path, relu_regions_io::onnx::write_onnx(last))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }

    if args.json {
        print_json(report)?;
        return crate::interrupt::outcome(report.interrupted);
    }
    let last = report.checkpoints.last().expect("epoch 0 at least");
    if report.interrupted {
        println!(
            "interrupted after {} of {} checkpoints: the report covers epochs 0-{}",
            report.checkpoints.len(),
            report.config.epochs + 1,
            report.checkpoints.len() - 1
        );
    }
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
    if let Some(a) = &report.findings.adversarial {
        println!("{}", a.statement);
        println!();
    }
    if let Some(b) = &report.findings.backdoor {
        println!("{}", b.statement);
        println!();
    }
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
    crate::interrupt::outcome(report.interrupted)
}

/// Writes one study's files to `out`: report.json, summary.json, plots, report.md,
/// metrics.csv, points_<set>.csv, and (for a trained study) its checkpoints.
fn write_run(run: &StudyRun, out: &Path, trained: bool) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let report = &run.report;
    if trained {
        files::write_checkpoints(&run.networks, &out.join("checkpoints"))?;
    }

    let json = serde_json::to_string_pretty(report)?;
    std::fs::write(out.join("report.json"), &json)
        .with_context(|| format!("cannot write {}", out.join("report.json").display()))?;
    // The verdicts alone, with their statistics: `f1` and `f2` at the top level.
    let summary = serde_json::json!({
        "dataset": report.dataset.name,
        "f1": report.findings.f1,
        "f2": report.findings.f2,
    });
    std::fs::write(
        out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )
    .with_context(|| format!("cannot write {}", out.join("summary.json").display()))?;
    let over_training = charts::write_plots(report, out)?;
    let distributions = charts::write_distribution_plots(report, out)?;
    // The report stands without the partition pictures: a failure (e.g. more regions than
    // the limit) is said in it, not fatal.
    let partitions = match &run.input_square {
        Some(Ok(square)) => {
            charts::write_partitions(report, square, out).map_err(|e| format!("{e:#}"))
        }
        Some(Err(e)) => Err(e.to_string()),
        None => Ok(Vec::new()),
    };
    if let Err(e) = &partitions {
        eprintln!("warning: input-square partitions not drawn: {e}");
    }
    let figures = Figures {
        over_training,
        distributions,
        partitions,
    };
    std::fs::write(out.join("report.md"), markdown(run, &figures))?;
    std::fs::write(out.join("metrics.csv"), files::metrics_csv(report))?;
    for (set, points) in report.point_sets.iter().zip(&report.tracked_points) {
        let path = out.join(format!("points_{set}.csv"));
        std::fs::write(&path, files::points_csv(set.name(), points))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(adv) = report
        .checkpoints
        .last()
        .and_then(|c| c.adversarial.as_ref())
    {
        let path = out.join("points_adversarial.csv");
        std::fs::write(&path, files::adversarial_csv(adv))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The study at `--seeds` seeds in parallel: each seed's files in `OUT/seed_<s>/`, the
/// pooled verdicts ([`relu_regions_study::replicate`]) in `OUT`.
fn run_replicated(args: &StudyArgs, config: &StudyConfig, seeds: usize) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let seeds: Vec<u64> = (0..seeds as u64).map(|k| args.seed + k).collect();
    let bar = output::Progress::bar(
        (config.epochs as u64 + 1) * seeds.len() as u64,
        "seeds: train + track",
        args.quiet,
    );
    let on_checkpoint = checkpoint_step(&bar);
    let step = |_seed: u64, p: StudyProgress| on_checkpoint(p);
    let results = relu_regions_study::run_seeds(config, &seeds, &step);
    bar.finish_and_clear();
    let mut runs = Vec::with_capacity(results.len());
    for (seed, r) in seeds.iter().zip(results) {
        let run = r.with_context(|| format!("seed {seed}"))?;
        write_run(&run, &args.out.join(format!("seed_{seed}")), true)
            .with_context(|| format!("writing seed {seed}'s study"))?;
        runs.push(run);
    }
    let reports: Vec<&relu_regions_study::StudyReport> = runs.iter().map(|r| &r.report).collect();
    let rep = relu_regions_study::replicate::pool(&reports);
    let first = reports[0];
    let summary = serde_json::json!({
        "dataset": first.dataset.name,
        "seeds": rep.seeds,
        "f1": { "pooled": rep.f1, "per_seed": rep.per_seed.iter().map(|v| serde_json::json!({"seed": v.seed, "verdict": v.f1})).collect::<Vec<_>>() },
        "f2": { "pooled": rep.f2, "per_seed": rep.per_seed.iter().map(|v| serde_json::json!({"seed": v.seed, "verdict": v.f2})).collect::<Vec<_>>() },
        "effects": rep.effects,
        "late_phase": { "statement": rep.late_phase_statement, "effects": rep.late_phase },
    });
    let path = args.out.join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let forest = charts::write_forest(&rep, &args.out)?;
    std::fs::write(
        args.out.join("report.md"),
        relu_regions_study::report::replicated_markdown(&rep, first, forest.as_deref()),
    )?;
    let interrupted = rep.per_seed.iter().any(|v| v.interrupted);
    if args.json {
        print_json(&summary)?;
        return crate::interrupt::outcome(interrupted);
    }
    if interrupted {
        println!("interrupted: the seeds' reports cover the checkpoints each had done");
    }
    println!(
        "study over {} seeds: {}, network {}, {} epochs",
        seeds.len(),
        first.dataset.name,
        first.config.arch,
        first.config.epochs
    );
    for v in &rep.per_seed {
        println!("seed {}: F1 {}; F2 {}", v.seed, v.f1.words(), v.f2.words());
    }
    println!();
    println!("{}", rep.f1.statement);
    println!();
    println!("{}", rep.f2.statement);
    println!();
    println!("{}", rep.late_phase_statement);
    println!();
    println!(
        "wrote {}/report.md, summary.json, forest.png/.svg, and every seed's study in seed_<s>/",
        args.out.display()
    );
    crate::interrupt::outcome(interrupted)
}

/// The `--activation` of a checkpoint file: given only for safetensors files (the other
/// formats name their activations, and refuse the option).
fn checkpoint_activation(args: &StudyArgs, file: &Path) -> Option<relu_regions_io::Activation> {
    let safetensors = relu_regions_io::ModelFormat::from_path(file)
        == Some(relu_regions_io::ModelFormat::Safetensors);
    args.activation.filter(|_| safetensors)
}

/// What a study does at each tracked checkpoint: advance the bar, and stop after it once
/// Ctrl-C or SIGTERM came (the report then covers the checkpoints done).
fn checkpoint_step(
    bar: &output::Progress,
) -> impl Fn(StudyProgress) -> ControlFlow<()> + Sync + '_ {
    let interrupt = crate::interrupt::flag();
    move |p| {
        match p {
            StudyProgress::Checkpoint { .. } => bar.inc(1),
        }
        if interrupt.load(std::sync::atomic::Ordering::SeqCst) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}
