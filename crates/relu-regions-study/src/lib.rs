//! # relu-regions-study: does training move region boundaries?
//!
//! Trains a ReLU MLP classifier on a bundled or generated dataset, takes a checkpoint at
//! initialisation and after every epoch, tracks the local region geometry at training,
//! test and arbitrary points at every checkpoint ([`track`]), and tests the seed paper's
//! two findings with rank statistics ([`report`], [`stats`]).
//!
//! A study computes and returns everything ([`StudyRun`]): the networks of its
//! checkpoints, their metrics and findings, and for 2-D data the input square's exact
//! partitions; [`report::markdown`] assembles the human report from it. The library writes
//! no file: the caller writes checkpoints, plots and reports.
//!
//! Training is written by hand on faer matrix products ([`train`]): an MLP's forward and
//! backward passes are short, and this keeps heavy ML frameworks out of the build.

pub mod attack;
pub mod backdoor;
pub mod datasets;
pub mod replicate;
pub mod report;
pub mod stats;
pub mod track;
pub mod train;

use std::time::Instant;

use relu_regions::Network;
use relu_regions::random::Init;
use relu_regions::stability::Method;
use serde::Serialize;
use thiserror::Error;

use datasets::{DataOptions, DatasetKind};
use report::Findings;
use track::{BallBudget, CheckpointMetrics, InputSquare, PointSet, PointSets, TrackConfig};
use train::{Mlp, Optimizer, TrainConfig, Trainer};

/// Why a study could not run.
#[derive(Debug, Error)]
pub enum StudyError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Data(String),
    #[error("analysis failed: {0}")]
    Analysis(String),
    /// The input square's partition at checkpoint `epoch` failed.
    #[error("partitioning the input square at epoch {epoch}: {source}")]
    Partition {
        epoch: usize,
        source: Box<StudyError>,
    },
}

/// Everything a study needs.
#[derive(Debug, Clone, Serialize)]
pub struct StudyConfig {
    #[serde(skip)]
    pub dataset: DatasetKind,
    /// Architecture `d-h...-c`; `None`: two hidden layers of 32 (2-D data) or 64 (images).
    pub arch: String,
    /// `pytorch` or `he` in JSON.
    #[serde(serialize_with = "train::serialize_init")]
    pub init: Init,
    /// `adam` or `sgd` in JSON.
    pub optimizer: Optimizer,
    pub lr: f64,
    pub epochs: usize,
    pub batch: usize,
    pub seed: u64,
    /// Points per set.
    pub points: usize,
    pub radii: Vec<f64>,
    /// Samples drawn by the 2-D generators.
    pub samples: usize,
    pub noise: f64,
    /// Arbitrary points: `None` uniform in the training data's box, `Some(sigma)`
    /// training points plus Gaussian noise of standard deviation `sigma`.
    pub arbitrary_noise: Option<f64>,
    /// Wall-clock seconds per point and checkpoint for its exact ball counts
    /// ([`track::BallBudget`]); `None`: the default for the data's dimension
    /// ([`track::BallBudget::default_for_dim`]); 0 turns the counts off.
    pub ball_seconds: Option<f64>,
    /// The most regions of one exact ball count.
    pub ball_max_regions: u64,
    /// The largest radius with exact ball counts (`None`: every radius; the larger radii
    /// are reported over budget).
    pub ball_max_radius: Option<f64>,
    /// Attack the tracked test points at every checkpoint ([`attack`]) and track the
    /// adversarial examples found beside their clean sources; `None`: off.
    pub adversarial: Option<attack::AttackConfig>,
    /// Poison the training images with a trigger ([`backdoor`]; image data only), and
    /// track the tracked training and test points with the trigger beside their clean
    /// twins; `None`: off.
    pub backdoor: Option<backdoor::BackdoorConfig>,
}

impl StudyConfig {
    /// The default study: two moons, 2-32-32-2, Adam, 30 epochs, 100 points per set.
    pub fn default_for(dataset: DatasetKind) -> Self {
        Self {
            dataset,
            arch: String::new(),
            init: Init::PytorchDefault,
            optimizer: Optimizer::Adam,
            lr: 0.01,
            epochs: 30,
            batch: 32,
            seed: 0,
            points: 100,
            radii: vec![0.05, 0.1, 0.2],
            samples: 500,
            noise: 0.1,
            arbitrary_noise: None,
            ball_seconds: None,
            ball_max_regions: 100_000,
            ball_max_radius: None,
            adversarial: None,
            backdoor: None,
        }
    }
}

/// How many seeds `study --preset seed` runs.
pub const SEED_PRESET_SEEDS: usize = 5;

impl StudyConfig {
    /// `study --preset seed`, the setting closest to the seed paper's: MNIST-5k, a
    /// 784-128-128-128-10 MLP, 10 epochs, 50 points per set, radii 0.02, 0.1, 0.5 and 1
    /// (input units, pixels in [0, 1]; exact ball counts at 0.02 within 1 s per point and
    /// checkpoint, the local bound at every radius), PGD adversarial examples in an L-inf ball of 0.05
    /// (20 steps), and 5% of the training images poisoned with a trigger relabelled to
    /// `backdoor_target`; the other options at their defaults. Run it at
    /// [`SEED_PRESET_SEEDS`] seeds.
    pub fn seed_preset(backdoor_target: usize) -> Self {
        let mut config = Self::default_for(DatasetKind::Mnist);
        config.arch = "784-128-128-128-10".into();
        config.epochs = 10;
        config.points = 50;
        // Exact ball counts at r = 0.02, where they finish in 784-D (a second each at most),
        // the local bound at every radius.
        config.radii = vec![0.02, 0.1, 0.5, 1.0];
        config.ball_seconds = Some(1.0);
        config.ball_max_radius = Some(0.02);
        config.adversarial = Some(attack::AttackConfig {
            norm: relu_regions::Norm::LInf,
            radius: 0.05,
            steps: 20,
        });
        config.backdoor = Some(backdoor::BackdoorConfig {
            fraction: 0.05,
            target: backdoor_target,
        });
        config
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DatasetSummary {
    pub name: String,
    pub n_train: usize,
    pub n_test: usize,
    pub dim: usize,
    pub classes: usize,
    pub scaling: String,
}

/// A finished study: everything `report.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct StudyReport {
    /// `trained`, or where the user's checkpoints came from.
    pub source: String,
    pub dataset: DatasetSummary,
    pub config: StudyConfig,
    /// Points per set actually tracked.
    pub points: usize,
    pub lc_directions: usize,
    /// The budget of the exact ball counts per point and checkpoint; `null` when off.
    pub ball_budget: Option<BallBudget>,
    /// How the local bounds' neuron bounds were computed (`crown` in JSON).
    #[serde(serialize_with = "serialize_method")]
    pub bound_method: Method,
    /// The tracked sets, in the order of every per-set list.
    pub point_sets: [PointSet; 3],
    pub checkpoints: Vec<CheckpointMetrics>,
    pub findings: Findings,
    pub train_seconds: f64,
    pub track_seconds: f64,
    /// Whether the run was stopped (an interrupt) after `checkpoints.len()` of the
    /// `config.epochs + 1` checkpoints; the findings then cover those.
    pub interrupted: bool,
    /// The tracked points of each set (one point per row, in the network's input units),
    /// written as `points_<set>.csv` beside the report rather than into its JSON.
    #[serde(skip)]
    pub tracked_points: Vec<faer::Mat<f64>>,
}

/// Serialises a bound [`Method`] by its name (`crown`, `ibp`).
fn serialize_method<S: serde::Serializer>(
    method: &Method,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(method.name())
}

/// Everything a study computed: the report, the networks of its checkpoints and, for 2-D
/// data, the input square's partitions.
#[derive(Debug)]
pub struct StudyRun {
    pub report: StudyReport,
    /// The network of every checkpoint, in epoch order (checkpoint `i` is epoch `i`): a
    /// trained study's parameters rounded to `f32`, exactly what its metrics were taken on
    /// (and what a float32 checkpoint file holds); the given networks when tracking.
    pub networks: Vec<Network>,
    /// For 2-D data, the input square partitioned at the first, a middle and the last
    /// checkpoint ([`track::input_square`]), or why it could not be (a report stands
    /// without it); `None` for other data.
    pub input_square: Option<Result<InputSquare, StudyError>>,
}

/// What a study is doing, for progress display.
#[derive(Debug, Clone, Copy)]
pub enum StudyProgress {
    /// Checkpoint `epoch` of `epochs` tracked.
    Checkpoint { epoch: usize, epochs: usize },
}

/// What the progress callback of [`run_study`] and [`track_networks`] returns:
/// `Continue`, or `Break` to stop after the checkpoint just tracked (an interrupt); the
/// study then reports the checkpoints it has, with [`StudyReport::interrupted`] set.
pub use std::ops::ControlFlow;

/// Runs a study: trains, takes a checkpoint at initialisation and after every epoch, and
/// tracks every checkpoint's network (its parameters rounded to `f32`).
pub fn run_study(
    config: &StudyConfig,
    progress: &mut dyn FnMut(StudyProgress) -> ControlFlow<()>,
) -> Result<StudyRun, StudyError> {
    let data = load_dataset(config)?;
    let mut config = config.clone();
    if config.arch.is_empty() {
        config.arch = default_arch(&data);
    }
    let widths = train::parse_arch(&config.arch)?;
    if widths[0] != data.dim() || *widths.last().expect("widths") < data.classes {
        return Err(StudyError::Config(format!(
            "architecture {} does not fit the data: input dimension {}, {} classes",
            config.arch,
            data.dim(),
            data.classes
        )));
    }
    let points = PointSets::choose(&data, config.points, config.seed, config.arbitrary_noise);
    let track_cfg = track_config(&config, &data);
    // The tracked points are chosen from the clean data; training sees the poisoned.
    let train_set = match &config.backdoor {
        Some(b) => backdoor::poison(&data.train, b, config.seed, data.classes)?.0,
        None => data.train.clone(),
    };
    let mut trainer = Trainer::new(
        Mlp::new(&widths, config.init, config.seed),
        TrainConfig {
            optimizer: config.optimizer,
            lr: config.lr,
            batch: config.batch,
            seed: config.seed,
        },
    );
    let (mut train_s, mut track_s) = (0.0, 0.0);
    let mut checkpoints = Vec::with_capacity(config.epochs + 1);
    let mut networks = Vec::with_capacity(config.epochs + 1);
    for epoch in 0..=config.epochs {
        let t0 = Instant::now();
        if epoch > 0 {
            trainer.epoch(&train_set);
        }
        // Everything below refers to the checkpoint (float32 parameters).
        let net = trainer.model.network_f32();
        let train_eval = train::evaluate_network(&net, &train_set);
        let test_eval = train::evaluate_network(&net, &data.test);
        train_s += t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        checkpoints.push(track_network(
            &net,
            &points,
            &track_cfg,
            Modified::of(&config, &data),
            epoch,
            train_eval,
            test_eval,
        )?);
        track_s += t1.elapsed().as_secs_f64();
        networks.push(net);
        if progress(StudyProgress::Checkpoint {
            epoch,
            epochs: config.epochs,
        })
        .is_break()
        {
            break;
        }
    }
    Ok(finish(
        &data,
        config,
        &points,
        &track_cfg,
        checkpoints,
        networks,
        train_s,
        track_s,
        "trained",
    ))
}

/// Runs the study once per seed in `seeds` (each with `config.seed` set to it), in
/// parallel: one rayon task per seed, whose tracking shares the same thread pool. The
/// results come in the order of `seeds`; pool them with [`replicate::pool`]. `progress`
/// receives each seed's checkpoints (and may stop that seed's run, as in [`run_study`]).
pub fn run_seeds(
    config: &StudyConfig,
    seeds: &[u64],
    progress: &(dyn Fn(u64, StudyProgress) -> ControlFlow<()> + Sync),
) -> Vec<Result<StudyRun, StudyError>> {
    use rayon::prelude::*;
    seeds
        .par_iter()
        .map(|&seed| {
            let mut c = config.clone();
            c.seed = seed;
            run_study(&c, &mut |p| progress(seed, p))
        })
        .collect()
}

/// The modified points a study tracks beside the clean ones: its attack (configuration
/// and the data's value range) and its backdoor (configuration and the clean test set).
#[derive(Clone, Copy)]
struct Modified<'a> {
    attack: Option<(&'a attack::AttackConfig, Option<(f64, f64)>)>,
    backdoor: Option<(&'a backdoor::BackdoorConfig, &'a datasets::Samples)>,
}

impl<'a> Modified<'a> {
    fn of(config: &'a StudyConfig, data: &'a datasets::Dataset) -> Self {
        Modified {
            attack: config.adversarial.as_ref().map(|c| (c, data.input_range)),
            backdoor: config.backdoor.as_ref().map(|b| (b, &data.test)),
        }
    }
}

/// Tracks one network (checkpoint `epoch`), and attacks its test points when asked.
fn track_network(
    net: &relu_regions::Network,
    points: &PointSets,
    track_cfg: &TrackConfig,
    modified: Modified<'_>,
    epoch: usize,
    (train_loss, train_accuracy): (f64, f64),
    (test_loss, test_accuracy): (f64, f64),
) -> Result<CheckpointMetrics, StudyError> {
    let sets = points
        .sets
        .iter()
        .enumerate()
        .map(|(s, p)| track::track_set(net, p, s, track_cfg))
        .collect::<Result<Vec<_>, _>>()?;
    let adversarial = match modified.attack {
        None => None,
        Some((attack_config, range)) => {
            let t = PointSet::Test.index();
            let (examples, sources, summary) = attack::adversarial_examples(
                net,
                &points.sets[t],
                &points.labels[t],
                attack_config,
                range,
            );
            let metrics = track::track_points(net, &examples, t, &sources, track_cfg)?;
            Some(track::AdversarialMetrics {
                attack: summary,
                sources,
                points: examples,
                metrics,
            })
        }
    };
    let backdoor = match modified.backdoor {
        None => None,
        Some((b, test)) => {
            let (side, patch) = backdoor::trigger_geometry(net.input_dim())?;
            let on = |s: PointSet| {
                let p = backdoor::triggered(&points.sets[s.index()], side, patch);
                track::track_set(net, &p, s.index(), track_cfg)
            };
            Some(track::BackdoorMetrics {
                attack_success_rate: backdoor::attack_success_rate(net, test, b),
                triggered_train: on(PointSet::Train)?,
                triggered_test: on(PointSet::Test)?,
            })
        }
    };
    Ok(CheckpointMetrics {
        epoch,
        train_loss,
        train_accuracy,
        test_loss,
        test_accuracy,
        sets,
        adversarial,
        backdoor,
    })
}

#[allow(clippy::too_many_arguments)]
fn finish(
    data: &datasets::Dataset,
    config: StudyConfig,
    points: &PointSets,
    track_cfg: &TrackConfig,
    checkpoints: Vec<CheckpointMetrics>,
    networks: Vec<Network>,
    train_s: f64,
    track_s: f64,
    source: &str,
) -> StudyRun {
    let findings = report::analyse(&checkpoints, &config.radii);
    let (checkpoints_len, config_epochs) = (checkpoints.len(), config.epochs);
    let input_square = (data.dim() == 2).then(|| track::input_square(&networks, data));
    let report = StudyReport {
        source: source.to_string(),
        dataset: DatasetSummary {
            name: data.name.clone(),
            n_train: data.train.y.len(),
            n_test: data.test.y.len(),
            dim: data.dim(),
            classes: data.classes,
            scaling: data.scaling.clone(),
        },
        points: points.k(),
        tracked_points: points.sets.clone(),
        lc_directions: track_cfg.lc_directions,
        ball_budget: track_cfg.exact_ball,
        bound_method: track::BOUND_METHOD,
        point_sets: PointSet::ALL,
        config,
        checkpoints,
        findings,
        train_seconds: train_s,
        track_seconds: track_s,
        interrupted: checkpoints_len < config_epochs + 1,
    };
    StudyRun {
        report,
        networks,
        input_square,
    }
}

/// The dataset of a study, split and scaled exactly as [`run_study`] and
/// [`track_networks`] use it (the same generator samples, seed and split).
pub fn load_dataset(config: &StudyConfig) -> Result<datasets::Dataset, StudyError> {
    if config.radii.is_empty() || config.radii.iter().any(|r| !(r.is_finite() && *r > 0.0)) {
        return Err(StudyError::Config("radii must be positive numbers".into()));
    }
    if let Some(s) = config.ball_seconds
        && !(s.is_finite() && s >= 0.0)
    {
        return Err(StudyError::Config(format!(
            "the exact ball counts' budget must be a number of seconds >= 0, not {s}"
        )));
    }
    if let Some(r) = config.ball_max_radius
        && !(r.is_finite() && r > 0.0)
    {
        return Err(StudyError::Config(format!(
            "the exact ball counts' largest radius must be a positive number, not {r}"
        )));
    }
    if config.ball_max_regions == 0 {
        return Err(StudyError::Config(
            "the exact ball counts' region limit must be at least 1".into(),
        ));
    }
    datasets::load(
        &config.dataset,
        &DataOptions {
            samples: config.samples,
            noise: config.noise,
            test_fraction: 0.2,
            seed: config.seed,
        },
    )
}

/// The architecture of a study without `--arch`: two hidden layers of 32 (2-D data) or 64
/// (anything larger), `d-h-h-classes`.
pub fn default_arch(data: &datasets::Dataset) -> String {
    let h = if data.dim() > 2 { 64 } else { 32 };
    format!("{}-{h}-{h}-{}", data.dim(), data.classes)
}

/// What a study tracks at every checkpoint on `data`: LC with `min(16, d)` directions,
/// slice discs when `d >= 2`, exact ball counts within the configured budget (unless
/// its seconds are 0).
pub fn track_config(config: &StudyConfig, data: &datasets::Dataset) -> TrackConfig {
    TrackConfig {
        radii: config.radii.clone(),
        lc_directions: 16.min(data.dim()),
        seed: config.seed,
        slice: data.dim() >= 2,
        exact_ball: {
            let mut budget = BallBudget::default_for_dim(data.dim());
            budget.seconds = config.ball_seconds.unwrap_or(budget.seconds);
            budget.max_regions = config.ball_max_regions;
            budget.max_radius = config.ball_max_radius;
            (budget.seconds > 0.0).then_some(budget)
        },
    }
}

/// Tracks a user's sequence of networks (in epoch order; checkpoint `i` is epoch `i`)
/// on the dataset's points, without training. `config`'s training fields are ignored.
pub fn track_networks(
    config: &StudyConfig,
    networks: Vec<Network>,
    source: &str,
    progress: &mut dyn FnMut(StudyProgress) -> ControlFlow<()>,
) -> Result<StudyRun, StudyError> {
    if networks.is_empty() {
        return Err(StudyError::Config("no networks to track".into()));
    }
    let data = load_dataset(config)?;
    for (i, net) in networks.iter().enumerate() {
        if net.input_dim() != data.dim() || net.output_dim() < data.classes {
            return Err(StudyError::Config(format!(
                "network {i} has {} inputs and {} outputs; the data has dimension {} and {} classes",
                net.input_dim(),
                net.output_dim(),
                data.dim(),
                data.classes
            )));
        }
    }
    let mut config = config.clone();
    config.arch = std::iter::once(networks[0].input_dim())
        .chain(networks[0].layer_widths())
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("-");
    config.epochs = networks.len() - 1;
    let points = PointSets::choose(&data, config.points, config.seed, config.arbitrary_noise);
    let track_cfg = track_config(&config, &data);
    let t0 = Instant::now();
    let mut checkpoints = Vec::with_capacity(networks.len());
    for (epoch, net) in networks.iter().enumerate() {
        checkpoints.push(track_network(
            net,
            &points,
            &track_cfg,
            Modified::of(&config, &data),
            epoch,
            train::evaluate_network(net, &data.train),
            train::evaluate_network(net, &data.test),
        )?);
        if progress(StudyProgress::Checkpoint {
            epoch,
            epochs: config.epochs,
        })
        .is_break()
        {
            break;
        }
    }
    let track_s = t0.elapsed().as_secs_f64();
    let mut networks = networks;
    networks.truncate(checkpoints.len());
    Ok(finish(
        &data,
        config,
        &points,
        &track_cfg,
        checkpoints,
        networks,
        0.0,
        track_s,
        source,
    ))
}
