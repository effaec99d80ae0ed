//! The native part of the Python package `relu_regions` (`relu_regions._native`).
//!
//! Arguments arrive already checked and converted by the Python layer
//! (`python/relu_regions/__init__.py`: float64 arrays of the right rank, finite radii,
//! known norms); this module runs the library with the GIL released (`Python::detach`;
//! rayon's threads do the work) and returns numpy arrays and dicts whose keys are the
//! CLI's JSON fields. Library errors become `RegionsError` (or `FileNotFoundError` for
//! a missing file) carrying the CLI's message; no panic crosses the boundary (pyo3 turns
//! one into `PanicException`, and the library returns typed errors for bad input).

use std::error::Error;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use faer::Mat;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rand::SeedableRng;
use rand::rngs::StdRng;
use relu_regions::bound::{certified_radius, local_region_bound};
use relu_regions::distance::boundary_distances_batch;
use relu_regions::exact::{EnumerationOptions, RegionRecord, enumerate_regions};
use relu_regions::network::Affine;
use relu_regions::sample::{distinct_sampled_patterns, local_complexity};
use relu_regions::slice::line::{SegmentOptions, segment_partition};
use relu_regions::slice::plane::{Decision, Plane, PlaneOptions, Shape, plane_partition};
use relu_regions::stability::{BoundPropagator, Method};
use relu_regions::{Domain, Network, Norm, boundary_distance};
use relu_regions_io::{LoadError, LoadOptions, load_model};

mod tasks;
mod tracker;

/// Raised by a Ctrl-C during [`NativeNetwork::count`] (one flag for the process: a
/// signal stops every count running then, in any thread).
static COUNT_INTERRUPT: AtomicBool = AtomicBool::new(false);

create_exception!(
    _native,
    RegionsError,
    PyException,
    "An analysis of relu_regions failed; the message is the command-line tool's."
);

/// The error's message with its causes, each printed once (as the CLI prints it).
pub(crate) fn message(e: &dyn Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.ends_with(&part) {
            text = format!("{text}: {part}");
        }
        source = s.source();
    }
    text
}

fn regions_error(e: impl Error) -> PyErr {
    RegionsError::new_err(message(&e))
}

fn norm_of(name: &str) -> PyResult<Norm> {
    match name {
        "l2" => Ok(Norm::L2),
        "linf" => Ok(Norm::LInf),
        other => Err(PyValueError::new_err(format!(
            "norm must be 'l2' or 'linf', not {other:?}"
        ))),
    }
}

pub(crate) fn matrix(x: &PyReadonlyArray2<'_, f64>) -> Mat<f64> {
    let v = x.as_array();
    Mat::from_fn(v.nrows(), v.ncols(), |i, j| v[(i, j)])
}

fn rows_of(m: &Mat<f64>) -> Vec<Vec<f64>> {
    (0..m.nrows())
        .map(|i| (0..m.ncols()).map(|j| m[(i, j)]).collect())
        .collect()
}

fn array2<'py>(py: Python<'py>, rows: &[Vec<f64>], cols: usize) -> Bound<'py, PyArray2<f64>> {
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    numpy::ndarray::Array2::from_shape_vec((rows.len(), cols), flat)
        .expect("rows of equal length")
        .into_pyarray(py)
}

/// The domain: a ball (`center`, `radius`, `norm`) or a box (`lo`, `hi`).
pub(crate) fn domain_of(
    center: Option<Vec<f64>>,
    radius: Option<f64>,
    norm: &str,
    lo: Option<Vec<f64>>,
    hi: Option<Vec<f64>>,
) -> PyResult<Domain> {
    match (center, radius, lo, hi) {
        (Some(c), Some(r), None, None) => {
            Domain::ball(c, r, norm_of(norm)?).map_err(|e| PyValueError::new_err(message(&e)))
        }
        (None, None, Some(lo), Some(hi)) => {
            Domain::boxed(lo, hi).map_err(|e| PyValueError::new_err(message(&e)))
        }
        _ => Err(PyValueError::new_err(
            "give either center and radius (a ball) or lo and hi (a box)",
        )),
    }
}

/// One layer of a [`NetworkState`]: `weight` row-major, `rows x cols`.
#[derive(serde::Serialize, serde::Deserialize)]
struct StateLayer {
    rows: usize,
    cols: usize,
    weight: Vec<f64>,
    bias: Vec<f64>,
}

/// A network's exact state for pickling (f64 values round-trip exactly through JSON).
#[derive(serde::Serialize, serde::Deserialize)]
struct NetworkState {
    layers: Vec<StateLayer>,
    output_relu: bool,
    negative_slopes: Vec<Vec<f64>>,
    info: Info,
}

/// A ReLU network (affine layers with ReLU between them, optionally on the output), in
/// f64.
#[pyclass(name = "NativeNetwork", module = "relu_regions._native", frozen)]
pub(crate) struct NativeNetwork {
    pub(crate) net: Network,
    info: Info,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Info {
    path: Option<String>,
    format: String,
    input_name: Option<String>,
    input_shape: Vec<Option<usize>>,
    folded: Vec<String>,
    assumptions: Vec<String>,
}

impl NativeNetwork {
    /// A loaded model, shown as `path`.
    fn from_loaded(loaded: relu_regions_io::LoadedModel, path: String) -> Self {
        Self {
            info: Info {
                path: Some(path),
                format: loaded.format.name().to_string(),
                input_name: loaded.input_name,
                input_shape: loaded.input_shape,
                folded: loaded.folded,
                assumptions: loaded.assumptions,
            },
            net: loaded.network,
        }
    }
}

/// Activation patterns as a bool matrix, one row each (`n` neurons).
fn pattern_matrix<'py, 'a>(
    py: Python<'py>,
    patterns: impl ExactSizeIterator<Item = &'a relu_regions::ActivationPattern>,
    n: usize,
) -> Bound<'py, PyArray2<bool>> {
    let rows = patterns.len();
    let flat: Vec<bool> = patterns.flat_map(|p| p.iter()).collect();
    numpy::ndarray::Array2::from_shape_vec((rows, n), flat)
        .expect("patterns of the network's length")
        .into_pyarray(py)
}

#[pymethods]
impl NativeNetwork {
    /// Loads a model file (ONNX, `.nnet`, safetensors); `activation` (`relu` or
    /// `leaky_relu:ALPHA`) is a safetensors checkpoint's activation, as the CLI's
    /// `--activation`.
    #[staticmethod]
    #[pyo3(signature = (path, activation=None))]
    fn load(py: Python<'_>, path: PathBuf, activation: Option<String>) -> PyResult<Self> {
        let shown = path.display().to_string();
        let activation = activation
            .map(|a| a.parse::<relu_regions_io::Activation>())
            .transpose()
            .map_err(|e| PyValueError::new_err(format!("activation: {e}")))?;
        let options = LoadOptions {
            activation,
            ..LoadOptions::default()
        };
        let loaded = py
            .detach(|| load_model(&path, options))
            .map_err(|e| match &e {
                LoadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                    PyFileNotFoundError::new_err(message(&e))
                }
                _ => regions_error(e),
            })?;
        Ok(Self::from_loaded(loaded, shown))
    }

    /// Loads an ONNX model from its bytes (no external data); `name` is shown as its
    /// path.
    #[staticmethod]
    fn load_onnx_bytes(py: Python<'_>, data: Vec<u8>, name: String) -> PyResult<Self> {
        let loaded = py
            .detach(|| relu_regions_io::onnx::load_onnx(&data))
            .map_err(regions_error)?;
        Ok(Self::from_loaded(loaded, name))
    }

    /// A network from its layers' weights `W_l` (`out x in`) and biases `b_l`, with the
    /// negative slopes of every activated layer (one per neuron, or empty for ReLU; no
    /// list at all: ReLU everywhere).
    #[staticmethod]
    #[pyo3(signature = (weights, biases, output_relu, negative_slopes=Vec::new()))]
    fn from_weights(
        weights: Vec<PyReadonlyArray2<'_, f64>>,
        biases: Vec<PyReadonlyArray1<'_, f64>>,
        output_relu: bool,
        negative_slopes: Vec<Vec<f64>>,
    ) -> PyResult<Self> {
        let mut layers = Vec::with_capacity(weights.len());
        for (l, (w, b)) in weights.iter().zip(&biases).enumerate() {
            let layer = Affine::new(matrix(w), b.as_array().to_vec())
                .map_err(|e| PyValueError::new_err(format!("layer {}: {}", l + 1, message(&e))))?;
            layers.push(layer);
        }
        let net =
            Network::new(layers, output_relu).map_err(|e| PyValueError::new_err(message(&e)))?;
        let net = if negative_slopes.is_empty() {
            net
        } else {
            net.with_negative_slopes(negative_slopes)
                .map_err(|e| PyValueError::new_err(message(&e)))?
        };
        let d = net.input_dim();
        Ok(Self {
            net,
            info: Info {
                path: None,
                format: "weights".to_string(),
                input_name: None,
                input_shape: vec![Some(d)],
                folded: Vec::new(),
                assumptions: Vec::new(),
            },
        })
    }

    /// The network's exact state (weights, biases, slopes, output ReLU flag, and what
    /// `inspect` shows) as bytes: for pickling (Ray's object store, multiprocessing).
    fn state(&self) -> Vec<u8> {
        let layers: Vec<StateLayer> = self
            .net
            .layers()
            .iter()
            .map(|layer| {
                let w = layer.weight();
                StateLayer {
                    rows: w.nrows(),
                    cols: w.ncols(),
                    weight: (0..w.nrows())
                        .flat_map(|i| (0..w.ncols()).map(move |j| w[(i, j)]))
                        .collect(),
                    bias: layer.bias().to_vec(),
                }
            })
            .collect();
        let state = NetworkState {
            layers,
            output_relu: self.net.output_relu(),
            negative_slopes: self.net.all_negative_slopes().to_vec(),
            info: self.info.clone(),
        };
        serde_json::to_vec(&state).expect("a network state serializes")
    }

    /// The network of [`NativeNetwork::state`]'s bytes.
    #[staticmethod]
    fn from_state(data: &[u8]) -> PyResult<Self> {
        let bad = |m: String| RegionsError::new_err(format!("network state: {m}"));
        let state: NetworkState = serde_json::from_slice(data).map_err(|e| bad(e.to_string()))?;
        let layers = state
            .layers
            .into_iter()
            .map(|l| {
                Affine::from_row_major(l.rows, l.cols, &l.weight, l.bias)
                    .map_err(|e| bad(message(&e)))
            })
            .collect::<PyResult<Vec<_>>>()?;
        let mut net = Network::new(layers, state.output_relu).map_err(|e| bad(message(&e)))?;
        if state.negative_slopes.iter().any(|s| !s.is_empty()) {
            net = net
                .with_negative_slopes(state.negative_slopes)
                .map_err(|e| bad(message(&e)))?;
        }
        Ok(Self {
            net,
            info: state.info,
        })
    }

    /// Pickling: `NativeNetwork.from_state(state)`.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, pyo3::types::PyBytes>,))> {
        let py = slf.py();
        let from_state = py.get_type::<Self>().getattr("from_state")?;
        let state = pyo3::types::PyBytes::new(py, &slf.get().state());
        Ok((from_state, (state,)))
    }

    #[getter]
    fn input_dim(&self) -> usize {
        self.net.input_dim()
    }

    #[getter]
    fn output_dim(&self) -> usize {
        self.net.output_dim()
    }

    #[getter]
    fn relu_count(&self) -> usize {
        self.net.relu_count()
    }

    /// `W_l` and `b_l` of every layer.
    #[allow(clippy::type_complexity)]
    fn weights<'py>(
        &self,
        py: Python<'py>,
    ) -> Vec<(Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<f64>>)> {
        self.net
            .layers()
            .iter()
            .map(|layer| {
                let w = layer.weight().to_owned();
                (
                    array2(py, &rows_of(&w), w.ncols()),
                    layer.bias().to_vec().into_pyarray(py),
                )
            })
            .collect()
    }

    /// The negative slopes of every activated layer, one per neuron (zeros for ReLU).
    fn negative_slopes<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyArray1<f64>>> {
        self.net
            .relu_widths()
            .into_iter()
            .enumerate()
            .map(|(l, w)| {
                let s = self
                    .net
                    .negative_slopes(l)
                    .map_or_else(|| vec![0.0; w], <[f64]>::to_vec);
                s.into_pyarray(py)
            })
            .collect()
    }

    /// What `relu-regions inspect --json` prints.
    fn inspect<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("model", self.info.path.clone())?;
        d.set_item("format", &self.info.format)?;
        d.set_item("input_name", self.info.input_name.clone())?;
        d.set_item("input_shape", self.info.input_shape.clone())?;
        d.set_item("input_dim", self.net.input_dim())?;
        d.set_item("output_dim", self.net.output_dim())?;
        d.set_item("layer_widths", self.net.layer_widths())?;
        d.set_item("relu_widths", self.net.relu_widths())?;
        d.set_item("relus", self.net.relu_count())?;
        d.set_item("activations", relu_regions_io::activation_names(&self.net))?;
        d.set_item("params", self.net.param_count())?;
        d.set_item("output_relu", self.net.output_relu())?;
        d.set_item("folded", self.info.folded.clone())?;
        d.set_item("assumptions", self.info.assumptions.clone())?;
        Ok(d)
    }

    /// Outputs at points (one per row).
    fn eval<'py>(
        &self,
        py: Python<'py>,
        points: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let x = matrix(&points);
        let out = py
            .detach(|| self.net.forward_batch(x.as_ref(), faer::Par::rayon(0)))
            .map_err(|e| PyValueError::new_err(message(&e)))?;
        Ok(array2(py, &rows_of(&out), out.ncols()))
    }

    /// Activation patterns at points: `true` where `z > 0`, ReLUs in network order.
    fn patterns<'py>(
        &self,
        py: Python<'py>,
        points: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<bool>>> {
        let x = matrix(&points);
        let patterns = py
            .detach(|| self.net.patterns_batch(x.as_ref(), faer::Par::rayon(0)))
            .map_err(|e| PyValueError::new_err(message(&e)))?;
        Ok(pattern_matrix(py, patterns.iter(), self.net.relu_count()))
    }

    /// Exact distances to the region boundary: `(distance, nearest_layer, nearest_neuron,
    /// nearest_point)`; an unbounded region has distance `inf`, layer and neuron `-1` and a
    /// row of NaN.
    #[allow(clippy::type_complexity)]
    fn distance<'py>(
        &self,
        py: Python<'py>,
        points: PyReadonlyArray2<'py, f64>,
        norm: &str,
    ) -> PyResult<(
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray2<f64>>,
    )> {
        let norm = norm_of(norm)?;
        let x = matrix(&points);
        let d = x.ncols();
        let found = py
            .detach(|| boundary_distances_batch(&self.net, x.as_ref(), norm))
            .map_err(|e| PyValueError::new_err(message(&e)))?;
        let distance: Vec<f64> = found.iter().map(|b| b.distance).collect();
        let layer: Vec<i64> = found
            .iter()
            .map(|b| b.nearest.map_or(-1, |n| n.layer as i64))
            .collect();
        let neuron: Vec<i64> = found
            .iter()
            .map(|b| b.nearest.map_or(-1, |n| n.index as i64))
            .collect();
        let nearest: Vec<Vec<f64>> = found
            .iter()
            .map(|b| b.nearest_point.clone().unwrap_or_else(|| vec![f64::NAN; d]))
            .collect();
        Ok((
            distance.into_pyarray(py),
            layer.into_pyarray(py),
            neuron.into_pyarray(py),
            array2(py, &nearest, d),
        ))
    }

    /// `relu-regions bound --json` on a ball or a box.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (center, radius, norm, lo, hi, method, samples, lc_directions, seed))]
    fn bound<'py>(
        &self,
        py: Python<'py>,
        center: Option<Vec<f64>>,
        radius: Option<f64>,
        norm: &str,
        lo: Option<Vec<f64>>,
        hi: Option<Vec<f64>>,
        method: &str,
        samples: usize,
        lc_directions: usize,
        seed: u64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let domain = domain_of(center, radius, norm, lo, hi)?;
        let method = match method {
            "crown" => Method::Crown,
            "ibp" => Method::Interval,
            other => {
                return Err(PyValueError::new_err(format!(
                    "method must be 'crown' or 'ibp', not {other:?}"
                )));
            }
        };
        let net = &self.net;
        let result = py.detach(|| -> Result<_, String> {
            let p = BoundPropagator::new(net);
            let b = local_region_bound(&p, &domain, method).map_err(|e| message(&e))?;
            let mut rng = StdRng::seed_from_u64(seed);
            let lower = distinct_sampled_patterns(net, &domain, samples, &mut rng)
                .map_err(|e| message(&e))?;
            let lc =
                local_complexity(net, &domain, lc_directions, &mut rng).map_err(|e| message(&e))?;
            let (certified, exact) = match &domain {
                Domain::Ball(ball) => {
                    let exact = boundary_distance(net, &ball.center, ball.norm)
                        .map_err(|e| message(&e))?
                        .distance;
                    let certified = certified_radius(&p, ball, method).map_err(|e| message(&e))?;
                    (certified, exact.is_finite().then_some(exact))
                }
                Domain::Box(_) => (None, None),
            };
            Ok((b, lower, lc, certified, exact))
        });
        let (b, lower, lc, certified, exact) = result.map_err(RegionsError::new_err)?;
        let d = PyDict::new(py);
        d.set_item("domain_dim", b.domain_dim)?;
        d.set_item("method", method.name())?;
        d.set_item("lower_bound", lower)?;
        d.set_item("samples", samples)?;
        d.set_item("local_bound", big_int(py, &b.local.to_string())?)?;
        d.set_item("local_bound_log2", b.local.log2())?;
        d.set_item("local_product_bound_log2", b.local_product.log2())?;
        d.set_item("pruned_serra_bound_log2", b.pruned_serra.log2())?;
        d.set_item("global_bound_log2", b.global_serra.log2())?;
        d.set_item("global_montufar_log2", b.global_montufar.log2())?;
        d.set_item("naive_unsound_log2", b.naive_unsound.log2())?;
        d.set_item(
            "unstable_per_layer",
            b.counts.iter().map(|c| c.unstable).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "active_per_layer",
            b.counts.iter().map(|c| c.active).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "inactive_per_layer",
            b.counts.iter().map(|c| c.inactive).collect::<Vec<_>>(),
        )?;
        d.set_item("lc_per_layer", lc)?;
        d.set_item("certified_radius", certified)?;
        d.set_item("exact_distance", exact)?;
        Ok(d)
    }

    /// `relu-regions count --json` on a ball or a box; with `regions`, also every region's
    /// pattern, interior point and inner radius.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (center, radius, norm, lo, hi, time_limit, max_regions, exact_layers, affine_maps, regions))]
    fn count<'py>(
        &self,
        py: Python<'py>,
        center: Option<Vec<f64>>,
        radius: Option<f64>,
        norm: &str,
        lo: Option<Vec<f64>>,
        hi: Option<Vec<f64>>,
        time_limit: Option<f64>,
        max_regions: Option<u64>,
        exact_layers: Option<usize>,
        affine_maps: bool,
        regions: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let domain = domain_of(center, radius, norm, lo, hi)?;
        let time_limit = time_limit
            .map(|s| {
                Duration::try_from_secs_f64(s).map_err(|_| {
                    PyValueError::new_err(format!(
                        "time_limit must be a number of seconds >= 0, not {s}"
                    ))
                })
            })
            .transpose()?;
        let options = EnumerationOptions {
            max_regions,
            time_limit,
            exact_layers,
            affine_maps,
            parallel: true,
            interrupt: Some(&COUNT_INTERRUPT),
        };
        COUNT_INTERRUPT.store(false, Ordering::SeqCst);
        let net = &self.net;
        let found = std::sync::Mutex::new(Vec::<RegionRecord>::new());
        let sink = |r: RegionRecord| found.lock().expect("no panics hold the lock").push(r);
        let work = || -> Result<_, String> {
            let e = enumerate_regions(
                net,
                &domain,
                options,
                regions.then_some(&sink as &(dyn Fn(RegionRecord) + Sync)),
                None,
            )
            .map_err(|e| message(&e))?;
            let local = local_region_bound(&BoundPropagator::new(net), &domain, Method::Crown)
                .map_err(|e| message(&e))?;
            Ok((e, local))
        };
        // The count runs on its own thread while this one, every 50 ms, takes the GIL to
        // let Python run its signal handlers: a Ctrl-C stops the count as at a limit.
        let (result, interrupted) = py.detach(|| {
            std::thread::scope(|scope| {
                let worker = scope.spawn(work);
                let mut interrupted = false;
                while !worker.is_finished() {
                    std::thread::sleep(Duration::from_millis(50));
                    if !interrupted && Python::attach(|py| py.check_signals().is_err()) {
                        interrupted = true;
                        COUNT_INTERRUPT.store(true, Ordering::SeqCst);
                    }
                }
                let result = worker
                    .join()
                    .unwrap_or_else(|_| Err("the count panicked".to_string()));
                (result, interrupted)
            })
        });
        let (e, local) = result.map_err(RegionsError::new_err)?;
        let d = count_dict(
            py,
            &e,
            local.local.log2(),
            net.relu_layer_count(),
            exact_layers,
            interrupted,
        )?;
        if regions {
            let found = found.into_inner().expect("no panics hold the lock");
            d.set_item(
                "patterns",
                pattern_matrix(py, found.iter().map(|r| &r.pattern), net.relu_count()),
            )?;
            let points: Vec<Vec<f64>> = found.iter().map(|r| r.interior_point.clone()).collect();
            d.set_item("interior_points", array2(py, &points, net.input_dim()))?;
            d.set_item(
                "inner_radius",
                found
                    .iter()
                    .map(|r| r.inner_radius)
                    .collect::<Vec<_>>()
                    .into_pyarray(py),
            )?;
        }
        Ok(d)
    }

    /// `relu-regions line --json` from `a` to `b`, with the pieces' parameters.
    fn line<'py>(
        &self,
        py: Python<'py>,
        a: Vec<f64>,
        b: Vec<f64>,
        max_regions: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        let net = &self.net;
        let part = py
            .detach(|| {
                segment_partition(
                    net,
                    &a,
                    &b,
                    SegmentOptions {
                        max_pieces: max_regions,
                    },
                )
            })
            .map_err(regions_error)?;
        let d = PyDict::new(py);
        let length = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (y - x).powi(2))
            .sum::<f64>()
            .sqrt();
        d.set_item("length", length)?;
        d.set_item("regions", part.regions())?;
        d.set_item("pieces", part.affine_pieces)?;
        d.set_item("segment_pieces", part.segment_pieces)?;
        d.set_item("unverified", part.unverified)?;
        d.set_item("exact", part.unverified == 0)?;
        let bounds: Vec<Vec<f64>> = part.pieces.iter().map(|p| vec![p.start, p.end]).collect();
        d.set_item("piece_bounds", array2(py, &bounds, 2))?;
        d.set_item(
            "crossings",
            part.crossings
                .iter()
                .map(|c| c.t)
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        Ok(d)
    }

    /// `relu-regions slice --json` through `center` along `u`, `v` (or the random
    /// orthonormal pair of `--random-dirs seed`) over the square `[-radius, radius]^2` or
    /// the disc, with every region's polygon and the directions used.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (center, u, v, seed, radius, disc, disc_vertices, circumscribed, max_regions))]
    fn slice<'py>(
        &self,
        py: Python<'py>,
        center: Vec<f64>,
        u: Option<Vec<f64>>,
        v: Option<Vec<f64>>,
        seed: u64,
        radius: f64,
        disc: bool,
        disc_vertices: usize,
        circumscribed: bool,
        max_regions: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        // Without directions, the CLI's `--random-dirs seed` plane.
        let plane = match (u, v) {
            (Some(u), Some(v)) => Plane::new(center, u, v),
            _ => Plane::random_orthonormal(center, seed),
        }
        .map_err(|e| PyValueError::new_err(message(&e)))?;
        let shape = if disc {
            Shape::Disc {
                radius,
                vertices: disc_vertices,
                circumscribed,
            }
        } else {
            Shape::square(radius)
        };
        let net = &self.net;
        let part = py
            .detach(|| {
                plane_partition(
                    net,
                    &plane,
                    shape,
                    PlaneOptions {
                        max_regions,
                        ..PlaneOptions::default()
                    },
                )
            })
            .map_err(regions_error)?;
        let d = PyDict::new(py);
        d.set_item("u", plane.u().to_vec().into_pyarray(py))?;
        d.set_item("v", plane.v().to_vec().into_pyarray(py))?;
        d.set_item("regions", part.region_count())?;
        d.set_item("pieces", part.pieces)?;
        d.set_item("shape_area", part.shape_area)?;
        d.set_item("area_total", part.area_total)?;
        d.set_item("unverified", part.unverified)?;
        d.set_item("merged_slivers", part.merged_slivers)?;
        d.set_item("uncertain", part.uncertain())?;
        d.set_item("exact", part.uncertain() == 0)?;
        d.set_item("max_output_error", part.max_output_error)?;
        let polygons = PyList::empty(py);
        for r in &part.regions {
            let vertices: Vec<Vec<f64>> = r.vertices.iter().map(|p| p.to_vec()).collect();
            polygons.append(array2(py, &vertices, 2))?;
        }
        d.set_item("polygons", polygons)?;
        d.set_item(
            "areas",
            part.regions
                .iter()
                .map(|r| r.area)
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        d.set_item(
            "patterns",
            pattern_matrix(
                py,
                part.regions.iter().map(|r| &r.pattern),
                net.relu_count(),
            ),
        )?;
        // The predicted class as the CLI's and the study's pictures colour it.
        let argmax: Vec<i64> = part
            .regions
            .iter()
            .map(|r| r.class(Decision::ArgMax) as i64)
            .collect();
        d.set_item("argmax_at_interior", argmax.into_pyarray(py))?;
        Ok(d)
    }
}

/// A Python `int` from a decimal string (bounds may exceed 2^128).
/// A count as `relu-regions count --json` prints it, of a network with `depth` ReLU
/// layers.
pub(crate) fn count_dict<'py>(
    py: Python<'py>,
    e: &relu_regions::exact::Enumeration,
    local_bound_log2: f64,
    depth: usize,
    exact_layers: Option<usize>,
    interrupted: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let exact = e.is_exact() && exact_layers.is_none_or(|k| k >= depth);
    let d = PyDict::new(py);
    d.set_item("regions", e.regions)?;
    d.set_item("degenerate", e.degenerate)?;
    d.set_item("uncertain", e.uncertain)?;
    d.set_item("complete", e.complete)?;
    d.set_item("exact", exact)?;
    d.set_item("interrupted", interrupted && !e.complete)?;
    d.set_item("affine_maps", e.affine_maps)?;
    d.set_item("upper_bound", big_int(py, &e.upper_bound.to_string())?)?;
    d.set_item("upper_bound_log2", e.upper_bound.log2())?;
    d.set_item("local_bound_log2", local_bound_log2)?;
    d.set_item("exact_layers", exact_layers)?;
    d.set_item("unverified", e.unverified)?;
    d.set_item("solves", e.solves)?;
    d.set_item("nodes", e.nodes)?;
    d.set_item("seconds", e.elapsed.as_secs_f64())?;
    Ok(d)
}

pub(crate) fn big_int<'py>(py: Python<'py>, decimal: &str) -> PyResult<Bound<'py, PyAny>> {
    py.get_type::<pyo3::types::PyInt>().call1((decimal,))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeNetwork>()?;
    m.add_class::<tracker::NativeTracker>()?;
    m.add_class::<tasks::NativeCountLedger>()?;
    m.add_function(wrap_pyfunction!(tasks::count_root_task, m)?)?;
    m.add_function(wrap_pyfunction!(tasks::run_count_task, m)?)?;
    m.add_function(wrap_pyfunction!(tasks::replicated_study, m)?)?;
    m.add("RegionsError", m.py().get_type::<RegionsError>())?;
    Ok(())
}
