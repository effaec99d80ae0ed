//! The native side of `relu_regions.distributed`: count tasks
//! ([`relu_regions::exact::tasks`]) as JSON strings, their ledger, and a replicated
//! study from a configuration dict, each with the GIL released.

use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use relu_regions::exact::tasks::{
    self, CountLedger, CountTask, TaskError, TaskOutcome, TaskRun, network_digest,
};
use relu_regions::random::Init;
use relu_regions_study::attack::AttackConfig;
use relu_regions_study::backdoor::BackdoorConfig;
use relu_regions_study::datasets::DatasetKind;
use relu_regions_study::train::Optimizer;
use relu_regions_study::{StudyConfig, replicate, run_seeds};

use crate::{NativeNetwork, RegionsError, count_dict, domain_of, message};

fn task_error(e: TaskError) -> PyErr {
    match e {
        TaskError::Json(_) | TaskError::Format { .. } | TaskError::Invalid { .. } => {
            PyValueError::new_err(message(&e))
        }
        e => RegionsError::new_err(message(&e)),
    }
}

/// The root task of the count of `net`'s regions in a ball (`center`, `radius`, `norm`)
/// or a box (`lo`, `hi`), as JSON.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (net, center, radius, norm, lo, hi, exact_layers, affine_maps))]
pub(crate) fn count_root_task(
    py: Python<'_>,
    net: &NativeNetwork,
    center: Option<Vec<f64>>,
    radius: Option<f64>,
    norm: &str,
    lo: Option<Vec<f64>>,
    hi: Option<Vec<f64>>,
    exact_layers: Option<usize>,
    affine_maps: bool,
) -> PyResult<String> {
    let domain = domain_of(center, radius, norm, lo, hi)?;
    py.detach(|| CountTask::root(&net.net, &domain, exact_layers, affine_maps))
        .map(|t| t.to_json())
        .map_err(task_error)
}

/// Runs a task (JSON) for at most `budget` seconds (and down to `emit_depth` splits),
/// single-threaded unless `parallel`; returns the outcome as JSON.
#[pyfunction]
#[pyo3(signature = (net, task, budget=None, emit_depth=None, parallel=false))]
pub(crate) fn run_count_task(
    py: Python<'_>,
    net: &NativeNetwork,
    task: &str,
    budget: Option<f64>,
    emit_depth: Option<usize>,
    parallel: bool,
) -> PyResult<String> {
    let task = CountTask::from_json(task).map_err(task_error)?;
    let budget = budget
        .map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                PyValueError::new_err(format!("budget must be a number of seconds >= 0, not {s}"))
            })
        })
        .transpose()?;
    let run = TaskRun {
        budget,
        emit_depth,
        parallel,
        interrupt: None,
    };
    py.detach(|| tasks::run_count_task(&net.net, &task, run, None))
        .map(|o| o.to_json())
        .map_err(task_error)
}

/// The merge of a count's task outcomes ([`CountLedger`]).
#[pyclass(name = "NativeCountLedger", module = "relu_regions._native")]
pub(crate) struct NativeCountLedger {
    ledger: CountLedger,
    relu_layers: usize,
    exact_layers: Option<usize>,
    local_bound_log2: f64,
}

#[pymethods]
impl NativeCountLedger {
    /// A ledger whose only open task is `root` (JSON) of `net`.
    #[new]
    fn new(net: &NativeNetwork, root: &str) -> PyResult<Self> {
        let root = CountTask::from_json(root).map_err(task_error)?;
        if root.network != network_digest(&net.net) {
            return Err(task_error(TaskError::NetworkMismatch {
                expected: root.network,
                found: network_digest(&net.net),
            }));
        }
        let bound = root.bound_value().map_err(task_error)?;
        let relu_layers = net.net.relu_layer_count();
        Ok(Self {
            ledger: CountLedger::new(&root, relu_layers).map_err(task_error)?,
            relu_layers,
            exact_layers: root.exact_layers,
            local_bound_log2: relu_regions::bound::RegionCount(bound).log2(),
        })
    }

    /// Merges an outcome (JSON); returns the tasks it opened (JSON). Refuses (with
    /// `RegionsError`) an outcome whose task is not open.
    fn merge(&mut self, outcome: &str) -> PyResult<Vec<String>> {
        let outcome = TaskOutcome::from_json(outcome).map_err(task_error)?;
        let opened = self.ledger.merge(outcome).map_err(task_error)?;
        Ok(opened.iter().map(CountTask::to_json).collect())
    }

    /// The open tasks (JSON), by id.
    fn open_tasks(&self) -> Vec<String> {
        self.ledger.open().map(CountTask::to_json).collect()
    }

    /// Whether task `id` is open.
    fn is_open(&self, id: &str) -> bool {
        self.ledger.is_open(id)
    }

    #[getter]
    fn open_count(&self) -> usize {
        self.ledger.open().len()
    }

    #[getter]
    fn merged(&self) -> u64 {
        self.ledger.merged()
    }

    #[getter]
    fn regions(&self) -> u64 {
        self.ledger.regions()
    }

    /// The count so far, as `relu-regions count --json` prints it (`seconds`: the
    /// caller's wall time).
    fn result<'py>(&self, py: Python<'py>, seconds: f64) -> PyResult<Bound<'py, PyDict>> {
        let e = self
            .ledger
            .enumeration(Duration::from_secs_f64(seconds.max(0.0)));
        count_dict(
            py,
            &e,
            self.local_bound_log2,
            self.relu_layers,
            self.exact_layers,
            false,
        )
    }

    /// The interval `(regions, upper bound)` so far (the upper bound a Python int).
    fn interval<'py>(&self, py: Python<'py>) -> PyResult<(u64, Bound<'py, PyAny>)> {
        let e = self.ledger.enumeration(Duration::ZERO);
        Ok((e.regions, crate::big_int(py, &e.upper_bound.to_string())?))
    }
}

/// A study configuration from a dict of the `study` command's options (`dataset`
/// required; `arch`, `init` (`pytorch`, `he`), `optimizer` (`adam`, `sgd`), `lr`,
/// `epochs`, `batch`, `points`, `radii`, `samples`, `noise`, `arbitrary_noise`,
/// `ball_seconds`, `ball_max_regions`, `ball_max_radius`, `adversarial` (`NORM:RADIUS[:STEPS]`),
/// `backdoor` (a fraction), `backdoor_target`).
fn study_config(config: &Bound<'_, PyDict>) -> PyResult<StudyConfig> {
    let err = |m: String| PyValueError::new_err(m);
    let dataset: String = config
        .get_item("dataset")?
        .ok_or_else(|| err("a study configuration needs a 'dataset'".into()))?
        .extract()?;
    let mut c =
        StudyConfig::default_for(DatasetKind::parse(&dataset).map_err(|e| err(message(&e)))?);
    let mut backdoor: Option<f64> = None;
    let mut target = 0usize;
    for (key, value) in config.iter() {
        let key: String = key.extract()?;
        let bad = |e: PyErr| err(format!("study option {key:?}: {e}"));
        match key.as_str() {
            "dataset" => {}
            "arch" => c.arch = value.extract().map_err(bad)?,
            "init" => {
                let name: String = value.extract().map_err(bad)?;
                c.init = match name.as_str() {
                    "pytorch" => Init::PytorchDefault,
                    "he" => Init::He,
                    other => {
                        return Err(err(format!(
                            "init must be 'pytorch' or 'he', not {other:?}"
                        )));
                    }
                };
            }
            "optimizer" => {
                let name: String = value.extract().map_err(bad)?;
                c.optimizer = match name.as_str() {
                    "adam" => Optimizer::Adam,
                    "sgd" => Optimizer::Sgd { momentum: 0.9 },
                    other => {
                        return Err(err(format!(
                            "optimizer must be 'adam' or 'sgd', not {other:?}"
                        )));
                    }
                };
            }
            "lr" => c.lr = value.extract().map_err(bad)?,
            "epochs" => c.epochs = value.extract().map_err(bad)?,
            "batch" => c.batch = value.extract().map_err(bad)?,
            "points" => c.points = value.extract().map_err(bad)?,
            "radii" => c.radii = value.extract().map_err(bad)?,
            "samples" => c.samples = value.extract().map_err(bad)?,
            "noise" => c.noise = value.extract().map_err(bad)?,
            "arbitrary_noise" => c.arbitrary_noise = value.extract().map_err(bad)?,
            "ball_seconds" => c.ball_seconds = value.extract().map_err(bad)?,
            "ball_max_regions" => c.ball_max_regions = value.extract().map_err(bad)?,
            "ball_max_radius" => c.ball_max_radius = value.extract().map_err(bad)?,
            "adversarial" => {
                let spec: String = value.extract().map_err(bad)?;
                c.adversarial =
                    Some(AttackConfig::parse(&spec).map_err(|e| err(format!("adversarial: {e}")))?);
            }
            "backdoor" => backdoor = Some(value.extract().map_err(bad)?),
            "backdoor_target" => target = value.extract().map_err(bad)?,
            other => {
                return Err(err(format!(
                    "unknown study option {other:?} (the study command's options, with _ for -)"
                )));
            }
        }
    }
    if c.radii.is_empty() || c.radii.iter().any(|r| !(r.is_finite() && *r > 0.0)) {
        return Err(err("radii must be one or more positive numbers".into()));
    }
    if c.epochs == 0 {
        return Err(err("epochs must be at least 1".into()));
    }
    c.backdoor = backdoor.map(|fraction| BackdoorConfig { fraction, target });
    Ok(c)
}

/// Runs the study of `config` (a dict, see [`study_config`]) at every seed of `seeds`
/// (in parallel on `threads` threads) and pools them as `study --seeds` does; returns
/// the replication (`seeds`, `per_seed`, `f1`, `f2`, `effects`, `late_phase`, ...) as
/// JSON.
#[pyfunction]
#[pyo3(signature = (config, seeds, threads=1))]
pub(crate) fn replicated_study(
    py: Python<'_>,
    config: &Bound<'_, PyDict>,
    seeds: Vec<u64>,
    threads: usize,
) -> PyResult<String> {
    let config = study_config(config)?;
    if seeds.is_empty() {
        return Err(PyValueError::new_err("seeds must name one seed or more"));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| RegionsError::new_err(e.to_string()))?;
    let runs = py.detach(|| {
        pool.install(|| run_seeds(&config, &seeds, &|_, _| std::ops::ControlFlow::Continue(())))
    });
    let runs = runs
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| RegionsError::new_err(message(&e)))?;
    let reports: Vec<&relu_regions_study::StudyReport> = runs.iter().map(|r| &r.report).collect();
    let replication = replicate::pool(&reports);
    serde_json::to_string(&replication).map_err(|e| RegionsError::new_err(e.to_string()))
}
