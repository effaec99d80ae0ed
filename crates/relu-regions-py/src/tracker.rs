//! The native side of `relu_regions.RegionTracker`: the study's per-point metrics
//! (`relu_regions_study::track::track_set`) at a user's own networks, one call per
//! epoch, and the study's F1/F2 analysis (`relu_regions_study::report::analyse`) over
//! them, so that a training loop outside relu-regions gets the same numbers, verdict
//! rules and wording as `relu-regions study`.

use faer::Mat;
use numpy::{IntoPyArray, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use relu_regions_study::report::analyse;
use relu_regions_study::track::{BallBudget, CheckpointMetrics, TrackConfig, track_set};

use crate::{NativeNetwork, RegionsError, matrix, message};

/// Tracked point sets (train, test, arbitrary) and the checkpoints observed so far.
#[pyclass(name = "NativeTracker", module = "relu_regions._native")]
pub(crate) struct NativeTracker {
    sets: Vec<Mat<f64>>,
    config: TrackConfig,
    checkpoints: Vec<CheckpointMetrics>,
}

#[pymethods]
impl NativeTracker {
    /// `train`, `test`, `arbitrary`: points, one per row, all of the same dimension.
    /// `ball_seconds`, `ball_max_regions`: the exact ball counts' budget per point and
    /// checkpoint (`None`: no ball counts).
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (train, test, arbitrary, radii, lc_directions, seed, slice, ball_seconds, ball_max_regions))]
    fn new(
        train: PyReadonlyArray2<'_, f64>,
        test: PyReadonlyArray2<'_, f64>,
        arbitrary: PyReadonlyArray2<'_, f64>,
        radii: Vec<f64>,
        lc_directions: usize,
        seed: u64,
        slice: bool,
        ball_seconds: Option<f64>,
        ball_max_regions: u64,
    ) -> PyResult<Self> {
        let sets = vec![matrix(&train), matrix(&test), matrix(&arbitrary)];
        Ok(Self {
            sets,
            config: TrackConfig {
                radii,
                lc_directions,
                seed,
                slice,
                exact_ball: ball_seconds.map(|seconds| BallBudget {
                    seconds,
                    max_regions: ball_max_regions,
                    max_radius: None,
                }),
            },
            checkpoints: Vec::new(),
        })
    }

    /// Computes every metric at every tracked point on `network` and records them as the
    /// checkpoint of `epoch` (losses and accuracies as given, NaN when unknown).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (network, epoch, train_loss, train_accuracy, test_loss, test_accuracy))]
    fn observe(
        &mut self,
        py: Python<'_>,
        network: &NativeNetwork,
        epoch: usize,
        train_loss: f64,
        train_accuracy: f64,
        test_loss: f64,
        test_accuracy: f64,
    ) -> PyResult<()> {
        let d = self.sets[0].ncols();
        if network.net.input_dim() != d {
            return Err(PyValueError::new_err(format!(
                "the network has {} inputs; the tracked points have {d} values",
                network.net.input_dim()
            )));
        }
        if let Some(last) = self.checkpoints.last()
            && epoch <= last.epoch
        {
            return Err(PyValueError::new_err(format!(
                "epochs must increase: {epoch} after {}",
                last.epoch
            )));
        }
        let (net, sets, config) = (&network.net, &self.sets, &self.config);
        let metrics = py
            .detach(|| {
                sets.iter()
                    .enumerate()
                    .map(|(s, points)| track_set(net, points, s, config))
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| RegionsError::new_err(message(&e)))?;
        self.checkpoints.push(CheckpointMetrics {
            epoch,
            train_loss,
            train_accuracy,
            test_loss,
            test_accuracy,
            sets: metrics,
            adversarial: None,
            backdoor: None,
        });
        Ok(())
    }

    /// Checkpoints observed.
    fn __len__(&self) -> usize {
        self.checkpoints.len()
    }

    /// The metrics in long form, one row per (checkpoint, set, point, radius, metric):
    /// columns `epoch`, `set` (0 train, 1 test, 2 arbitrary), `point`, `radius` (NaN
    /// for the distance), `metric` (index into `metric_names`), `value` (NaN for a ball
    /// count over budget).
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let names = [
            "distance",
            "bound_log2",
            "unstable",
            "lc",
            "slice_regions",
            "ball_regions",
            "ball_regions_at_least",
        ];
        let (mut epoch, mut set, mut point, mut radius, mut metric, mut value) = (
            Vec::<i64>::new(),
            Vec::<i64>::new(),
            Vec::<i64>::new(),
            Vec::<f64>::new(),
            Vec::<i64>::new(),
            Vec::<f64>::new(),
        );
        let mut push = |e: usize, s: usize, p: usize, r: f64, m: usize, v: f64| {
            epoch.push(e as i64);
            set.push(s as i64);
            point.push(p as i64);
            radius.push(r);
            metric.push(m as i64);
            value.push(v);
        };
        for cp in &self.checkpoints {
            for (s, m) in cp.sets.iter().enumerate() {
                for (p, &d) in m.distance.iter().enumerate() {
                    push(cp.epoch, s, p, f64::NAN, 0, d);
                }
                for (ri, &r) in self.config.radii.iter().enumerate() {
                    let per_radius: [Vec<f64>; 6] = [
                        m.bound_log2[ri].clone(),
                        m.unstable[ri].iter().map(|&v| v as f64).collect(),
                        m.lc[ri].iter().map(|&v| v as f64).collect(),
                        m.slice_regions
                            .get(ri)
                            .map(|v| v.iter().map(|&x| x as f64).collect())
                            .unwrap_or_default(),
                        m.ball_regions
                            .get(ri)
                            .map(|v| v.iter().map(|x| x.map_or(f64::NAN, |c| c as f64)).collect())
                            .unwrap_or_default(),
                        m.ball_regions_at_least
                            .get(ri)
                            .map(|v| v.iter().map(|&x| x as f64).collect())
                            .unwrap_or_default(),
                    ];
                    for (k, values) in per_radius.iter().enumerate() {
                        for (p, &v) in values.iter().enumerate() {
                            push(cp.epoch, s, p, r, k + 1, v);
                        }
                    }
                }
            }
        }
        let d = PyDict::new(py);
        d.set_item("epoch", epoch.into_pyarray(py))?;
        d.set_item("set", set.into_pyarray(py))?;
        d.set_item("point", point.into_pyarray(py))?;
        d.set_item("radius", radius.into_pyarray(py))?;
        d.set_item("metric", metric.into_pyarray(py))?;
        d.set_item("value", value.into_pyarray(py))?;
        d.set_item("metric_names", names.to_vec())?;
        Ok(d)
    }

    /// The study's F1 and F2 over the checkpoints observed (at least two), as the JSON
    /// of `relu-regions study`'s `findings` (a string; the Python side parses it).
    fn findings_json(&self) -> PyResult<String> {
        if self.checkpoints.len() < 2 {
            return Err(PyValueError::new_err(format!(
                "findings need at least two observed checkpoints (a first and a last); {} so far",
                self.checkpoints.len()
            )));
        }
        let findings = analyse(&self.checkpoints, &self.config.radii);
        serde_json::to_string(&findings).map_err(|e| RegionsError::new_err(e.to_string()))
    }
}
