//! The study's costs on one core (run by hand, in release):
//!
//! ```sh
//! cargo run --release -p relu-regions-cli --example bench_study
//! cargo run --release -p relu-regions-cli --example bench_study -- --json
//! cargo run --release -p relu-regions-cli --example bench_study -- --preset
//! ```
//!
//! With `--preset`: `study --preset seed` (`StudyConfig::seed_preset`, its 5 seeds in
//! parallel on every core, as the command runs them) timed end to end, training,
//! tracking and pooling (the command also writes its files and plots), with the pooled
//! verdicts, the pooled table and each seed's accuracy and attacks; the preset's budget
//! is 30 minutes on this 2-core machine.
//!
//! Otherwise:
//! Everything runs in a rayon pool of one thread (training uses no other parallelism), on
//! the study's defaults: `StudyConfig::default_for` each dataset (Adam, lr 0.01, batch 32,
//! 30 epochs, seed 0, 100 points per set, radii 0.05, 0.1, 0.2) and the default
//! architectures (moons `2-32-32-2`, digits `64-64-64-10`, MNIST-5k `784-64-64-10`).
//!
//! - **Training throughput**: samples per second of whole training steps (batch copy,
//!   forward, backward, Adam update) over at least 30 epochs and at least 2 s. The
//!   arithmetic per sample is estimated as `FLOPs = 3 x 2 sum_l fan_in_l fan_out_l`
//!   (forward `2 fan_in fan_out` multiply-adds per layer; the backward pass about twice
//!   that: gradients of the weights and of the layer inputs); biases, ReLU, softmax and the
//!   optimiser update are left out of the estimate.
//! - **Tracking cost per checkpoint**: each metric of `track_set`, timed separately on the
//!   network after the default 30 epochs at the 300 tracked points (100 training, 100
//!   test, 100 arbitrary), in milliseconds per point, with the same functions and settings
//!   as the study: the exact L2 distance to the region boundary, the CROWN local bound,
//!   LC, the exact slice-disc count and (2-D data) the exact ball count at each radius.
//!   `all metrics` is one call of `track_set` per point set, as the study makes it at a
//!   checkpoint (for 2-D data with the ball count, which the study takes at the first and
//!   last checkpoint only).

use std::time::Instant;

use relu_regions::distance::boundary_distances_batch;
use relu_regions::stability::BoundPropagator;
use relu_regions::{Domain, Network, Norm};
use relu_regions_study::datasets::{Dataset, DatasetKind};
use relu_regions_study::track::{self, PointSets, TrackConfig};
use relu_regions_study::train::{Mlp, Optimizer, TrainConfig, Trainer, parse_arch};
use relu_regions_study::{StudyConfig, default_arch, load_dataset, track_config};
use serde::Serialize;

#[derive(Serialize)]
struct TrainingRow {
    dataset: String,
    arch: String,
    train_samples: usize,
    /// `3 x 2 sum fan_in fan_out`.
    flops_per_sample: u64,
    epochs: usize,
    seconds: f64,
    samples_per_second: f64,
    gflops_per_second: f64,
    final_train_accuracy: f64,
}

#[derive(Serialize)]
struct TrackingRow {
    dataset: String,
    metric: String,
    /// `None` for the distance and the totals.
    radius: Option<f64>,
    points: usize,
    ms_per_point: f64,
    ms_per_checkpoint: f64,
}

#[derive(Serialize)]
struct Bench {
    threads: usize,
    flops_formula: &'static str,
    training: Vec<TrainingRow>,
    tracking: Vec<TrackingRow>,
}

/// `3 x 2 sum_l fan_in_l fan_out_l`.
fn flops_per_sample(widths: &[usize]) -> u64 {
    3 * 2 * widths.windows(2).map(|w| (w[0] * w[1]) as u64).sum::<u64>()
}

/// Trains the default study for at least its epochs and at least `min_seconds`; returns
/// the row and the network as the study checkpoints it after its last epoch.
fn train(
    name: &str,
    data: &Dataset,
    config: &StudyConfig,
    min_seconds: f64,
) -> (TrainingRow, Network) {
    let arch = default_arch(data);
    let widths = parse_arch(&arch).unwrap();
    let mut trainer = Trainer::new(
        Mlp::new(
            &widths,
            relu_regions::random::Init::PytorchDefault,
            config.seed,
        ),
        TrainConfig {
            optimizer: Optimizer::Adam,
            lr: config.lr,
            batch: config.batch,
            seed: config.seed,
        },
    );
    let mut checkpoint = None;
    let mut epochs = 0;
    let mut seconds = 0.0;
    while epochs < config.epochs || seconds < min_seconds {
        let t = Instant::now();
        trainer.epoch(&data.train);
        seconds += t.elapsed().as_secs_f64();
        epochs += 1;
        if epochs == config.epochs {
            checkpoint = Some(trainer.model.network_f32());
        }
    }
    let net = checkpoint.expect("the study's epochs were run");
    let samples_per_second = (epochs * data.train.y.len()) as f64 / seconds;
    let flops = flops_per_sample(&widths);
    let accuracy = relu_regions_study::train::evaluate_network(&net, &data.train).1;
    (
        TrainingRow {
            dataset: name.into(),
            arch,
            train_samples: data.train.y.len(),
            flops_per_sample: flops,
            epochs,
            seconds,
            samples_per_second,
            gflops_per_second: samples_per_second * flops as f64 / 1e9,
            final_train_accuracy: accuracy,
        },
        net,
    )
}

fn row_of(points: &PointSets, s: usize, i: usize) -> Vec<f64> {
    (0..points.sets[s].ncols())
        .map(|j| points.sets[s][(i, j)])
        .collect()
}

/// Times `f` over every tracked point (set, index, centre); ms per point.
fn per_point(points: &PointSets, mut f: impl FnMut(usize, usize, &[f64])) -> f64 {
    let n = points.sets.len() * points.k();
    let t = Instant::now();
    for s in 0..points.sets.len() {
        for i in 0..points.k() {
            f(s, i, &row_of(points, s, i));
        }
    }
    1e3 * t.elapsed().as_secs_f64() / n as f64
}

fn track_costs(
    name: &str,
    net: &Network,
    points: &PointSets,
    cfg: &TrackConfig,
) -> Vec<TrackingRow> {
    let n = points.sets.len() * points.k();
    let row = |metric: &str, radius: Option<f64>, ms: f64| TrackingRow {
        dataset: name.into(),
        metric: metric.into(),
        radius,
        points: n,
        ms_per_point: ms,
        ms_per_checkpoint: ms * n as f64,
    };
    let mut rows = Vec::new();
    let t = Instant::now();
    for set in &points.sets {
        boundary_distances_batch(net, set.as_ref(), Norm::L2).unwrap();
    }
    rows.push(row(
        "distance",
        None,
        1e3 * t.elapsed().as_secs_f64() / n as f64,
    ));
    let p = BoundPropagator::new(net);
    let ball = |c: &[f64], r: f64| Domain::ball(c.to_vec(), r, Norm::L2).unwrap();
    for (ri, &r) in cfg.radii.iter().enumerate() {
        let ms = per_point(points, |_, _, c| {
            track::local_bound_log2(&p, &ball(c, r)).unwrap();
        });
        rows.push(row("bound (CROWN)", Some(r), ms));
        let ms = per_point(points, |s, i, c| {
            track::local_complexity_total(
                net,
                &ball(c, r),
                cfg.lc_directions,
                track::point_seed(cfg.seed, s, i, ri),
            )
            .unwrap();
        });
        rows.push(row("LC", Some(r), ms));
        if cfg.slice {
            let ms = per_point(points, |s, i, c| {
                track::slice_disc_regions(net, c, r, track::point_seed(cfg.seed, s, i, usize::MAX))
                    .unwrap();
            });
            rows.push(row("slice disc count", Some(r), ms));
        }
    }
    if let Some(budget) = cfg.exact_ball {
        // As the study counts: all radii of a point, smallest first, in one budget.
        let mut over = vec![0usize; cfg.radii.len()];
        let ms = per_point(points, |_, _, c| {
            let counts = track::ball_regions_at_radii(net, c, &cfg.radii, budget).unwrap();
            for (o, b) in over.iter_mut().zip(counts) {
                *o += usize::from(b.exact.is_none());
            }
        });
        rows.push(row(
            &format!(
                "exact ball counts, all radii in {} s per point (over budget at r = {}: {} of {n})",
                budget.seconds,
                cfg.radii
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(" / "),
                over.iter()
                    .map(|o| o.to_string())
                    .collect::<Vec<_>>()
                    .join(" / ")
            ),
            None,
            ms,
        ));
    }
    let total = |cfg: &TrackConfig| {
        let t = Instant::now();
        for (s, set) in points.sets.iter().enumerate() {
            track::track_set(net, set, s, cfg).unwrap();
        }
        1e3 * t.elapsed().as_secs_f64() / n as f64
    };
    if cfg.exact_ball.is_some() {
        let without = TrackConfig {
            exact_ball: None,
            ..cfg.clone()
        };
        rows.push(row("all metrics, no ball count", None, total(&without)));
    }
    rows.push(row("all metrics", None, total(cfg)));
    rows
}

/// `--preset`: the seed preset, timed (see the module docs).
fn preset(json: bool) {
    use relu_regions_study::{SEED_PRESET_SEEDS, StudyReport, replicate, run_seeds};
    let config = StudyConfig::seed_preset(0);
    let seeds: Vec<u64> = (0..SEED_PRESET_SEEDS as u64).collect();
    let start = Instant::now();
    let runs = run_seeds(&config, &seeds, &|_, _| std::ops::ControlFlow::Continue(()));
    let runs: Vec<_> = runs
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .expect("the preset runs");
    let reports: Vec<&StudyReport> = runs.iter().map(|r| &r.report).collect();
    let pooled = replicate::pool(&reports);
    let seconds = start.elapsed().as_secs_f64();
    #[derive(Serialize)]
    struct Preset<'a> {
        threads: usize,
        seeds: usize,
        seconds: f64,
        f1: &'a str,
        f2: &'a str,
        late_phase: &'a str,
    }
    let out = Preset {
        threads: rayon::current_num_threads(),
        seeds: seeds.len(),
        seconds,
        f1: &pooled.f1.statement,
        f2: &pooled.f2.statement,
        late_phase: &pooled.late_phase_statement,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&out).unwrap());
    } else {
        println!(
            "study --preset seed: {} seeds on {} threads in {:.0} s ({:.1} min)",
            out.seeds,
            out.threads,
            seconds,
            seconds / 60.0
        );
        println!("{}\n{}\n{}", out.f1, out.f2, out.late_phase);
        // The pooled table, as `report.md` of `study --preset seed` opens with it, and
        // each seed's accuracy and attacks at the last checkpoint.
        println!(
            "\n{}",
            relu_regions_study::report::replicated_markdown(&pooled, reports[0], None)
        );
        println!("| seed | test accuracy | PGD succeeded / attacked | backdoor attack success |");
        println!("|---|---|---|---|");
        for (seed, r) in seeds.iter().zip(&reports) {
            let accuracy = r.checkpoints.last().map_or(f64::NAN, |c| c.test_accuracy);
            let pgd = r
                .findings
                .adversarial
                .as_ref()
                .and_then(|a| a.success.last());
            let asr = r.findings.backdoor.as_ref().and_then(|b| b.success.last());
            println!(
                "| {seed} | {accuracy:.3} | {} | {} |",
                pgd.map_or("-".into(), |(_, attacked, ok, _)| format!(
                    "{ok} / {attacked}"
                )),
                asr.map_or("-".into(), |(_, _, asr)| format!("{asr:.3}"))
            );
        }
    }
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    if std::env::args().any(|a| a == "--preset") {
        preset(json);
        return;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let bench = pool.install(|| {
        let mut training = Vec::new();
        let mut tracking = Vec::new();
        for (name, kind) in [
            ("moons", DatasetKind::Moons),
            ("digits", DatasetKind::Digits),
            ("mnist5k", DatasetKind::Mnist),
        ] {
            let config = StudyConfig::default_for(kind);
            let data = load_dataset(&config).unwrap();
            let (row, net) = train(name, &data, &config, 2.0);
            if !json {
                eprintln!(
                    "{name}: trained {} epochs in {:.2} s; tracking...",
                    row.epochs, row.seconds
                );
            }
            training.push(row);
            let points = PointSets::choose(&data, config.points, config.seed, None);
            let cfg = track_config(&config, &data);
            tracking.extend(track_costs(name, &net, &points, &cfg));
        }
        Bench {
            threads: rayon::current_num_threads(),
            flops_formula: "3 x 2 x sum over layers of fan_in x fan_out (forward + backward)",
            training,
            tracking,
        }
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&bench).unwrap());
        return;
    }
    println!(
        "training, one core (rayon pool of {} thread)",
        bench.threads
    );
    println!();
    println!(
        "| dataset | architecture | train samples | FLOPs per sample | epochs timed | samples/s per core | GFLOP/s | train accuracy after 30 epochs |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &bench.training {
        println!(
            "| {} | {} | {} | {} | {} | {:.0} | {:.2} | {:.3} |",
            r.dataset,
            r.arch,
            r.train_samples,
            r.flops_per_sample,
            r.epochs,
            r.samples_per_second,
            r.gflops_per_second,
            r.final_train_accuracy
        );
    }
    println!();
    println!("FLOPs per sample = {}", bench.flops_formula);
    println!();
    println!("tracking cost per checkpoint, one core, network after 30 epochs");
    println!();
    println!("| dataset | metric | radius | ms per point | ms per checkpoint (points) |");
    println!("|---|---|---|---|---|");
    for r in &bench.tracking {
        println!(
            "| {} | {} | {} | {:.3} | {:.0} ({}) |",
            r.dataset,
            r.metric,
            r.radius.map_or("-".into(), |x| x.to_string()),
            r.ms_per_point,
            r.ms_per_checkpoint,
            r.points
        );
    }
}
