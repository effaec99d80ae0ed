//! A count that splits and merges exactly: the region tree's nodes as serializable
//! tasks, for batch schedulers and clusters.
//!
//! # Tasks
//!
//! A [`CountTask`] is one node of the region tree of [`super::enumerate_regions`],
//! written out: the network's [digest](network_digest), the domain, the options that
//! shape the tree (`exact_layers`, `affine_maps`), and the node itself ([`TaskNode`]:
//! its layer and neuron, the decided neurons' states, the decided hyperplanes with
//! their error bound, its witnesses, bounding box and polygon). The node's frozen maps
//! are not stored: they are a function of the decided states, recomputed by the worker
//! ([`TaskNode::to_node`]), so a task stays small in any input dimension. Each task
//! carries a proven upper bound on the regions of its subtree ([`CountTask::bound`]:
//! the local bound of the node's sub-network over the domain, as the anytime bound of
//! [`super::anytime`]).
//!
//! [`run_count_task`] explores a task's subtree under a time budget (and, optionally,
//! only down to a number of splits). It returns a [`TaskOutcome`]: what it found
//! (regions, degenerate ties, uncertain sides and their bounds, the certified regions'
//! affine-map keys when asked), and the nodes it left open, as new tasks with their
//! bounds.
//!
//! # Exact merge
//!
//! The subtrees of distinct open nodes are disjoint: a node's subtree holds exactly the
//! leaves whose decided states extend the node's, and two open nodes never extend one
//! another (a node is either explored or left open, never both). A region is a leaf
//! with a certified witness, so every region is found in exactly one task, and a
//! [`CountLedger`] merges outcomes by plain sums (and the union of the map keys):
//!
//! ```text
//! regions  = sum over outcomes of regions
//! interval = [regions, min(regions + sum of uncertain bounds + sum of open tasks' bounds
//!                          (+ the bounded sums with exact_layers), plain local bound)]
//! ```
//!
//! The ledger accepts one outcome per task it has handed out and refuses any other
//! (an unknown or already merged task id, or an outcome of another task under the same
//! id: each outcome carries the [digest](task_digest) of the task it ran), so a task run
//! twice (a retried worker, a rerun job) is counted once, and the count is complete exactly when no task is open. The result
//! equals the single process's: the same regions are certified, whichever worker finds
//! them.
//!
//! Numbers cross the file boundary unchanged: JSON floats are written in their shortest
//! round-trip form and read back exactly (serde_json's `float_roundtrip`).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use num_bigint::BigUint;
use serde::{Deserialize, Serialize};

use super::maps::MapError;
use super::tree::{Node, Search};
use super::{
    Enumeration, EnumerationError, EnumerationOptions, RegionRecord, Start, Strategy, run_tree,
};
use crate::bound::{RegionCount, local_region_bound};
use crate::domain::{Domain, DomainError, Norm};
use crate::geometry::HalfSpaces;
use crate::network::Network;
use crate::stability::{BoundPropagator, Method};

/// The version of the task and outcome files; a reader refuses any other.
pub const TASK_FORMAT: u32 = 1;

/// Why a task could not be made, run or merged.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("task format {found} is not the supported format {TASK_FORMAT}")]
    Format { found: u32 },
    #[error(
        "the task was made for network {expected}, but this network's digest is {found}: \
         run it with the network it was emitted from"
    )]
    NetworkMismatch { expected: String, found: String },
    #[error("task {task}: {message}")]
    Invalid { task: String, message: String },
    #[error("outcome of task {0}, which is not open in this count (unknown, or merged already)")]
    NotOpen(String),
    #[error("the outcome of task {task} belongs to another count ({message})")]
    OtherCount { task: String, message: String },
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Enumeration(#[from] EnumerationError),
    #[error("malformed task or outcome JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The digest of a network: 16 hex digits of a 64-bit FNV-1a hash over its shape,
/// weights, biases, activation slopes and output ReLU flag (their exact bits). Tasks
/// carry it, so that a worker refuses to run a task with another network.
pub fn network_digest(net: &Network) -> String {
    let mut h = Fnv::default();
    let mut eat = |bytes: &[u8]| h.eat(bytes);
    eat(&(net.input_dim() as u64).to_le_bytes());
    eat(&[u8::from(net.output_relu())]);
    for (l, layer) in net.layers().iter().enumerate() {
        let w = layer.weight();
        eat(&(w.nrows() as u64).to_le_bytes());
        eat(&(w.ncols() as u64).to_le_bytes());
        for i in 0..w.nrows() {
            for j in 0..w.ncols() {
                eat(&w[(i, j)].to_bits().to_le_bytes());
            }
        }
        for b in layer.bias() {
            eat(&b.to_bits().to_le_bytes());
        }
        if let Some(slopes) = net.negative_slopes(l) {
            for s in slopes {
                eat(&s.to_bits().to_le_bytes());
            }
        }
    }
    h.hex()
}

/// A 64-bit FNV-1a hash.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn eat(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// The digest of a task (16 hex digits of FNV-1a over its JSON): an outcome names the
/// exact task it ran, so that a ledger never takes an outcome of another task that
/// happens to have the same id (a task file rewritten by a rerun of its parent).
pub fn task_digest(task: &CountTask) -> String {
    let mut h = Fnv::default();
    h.eat(task.to_json().as_bytes());
    h.hex()
}

/// A domain as written in a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DomainSpec {
    /// `{x : ||x - center|| <= radius}`, `norm` one of `l2`, `linf`.
    Ball {
        center: Vec<f64>,
        radius: f64,
        norm: String,
    },
    /// `{x : lo <= x <= hi}`.
    Box { lo: Vec<f64>, hi: Vec<f64> },
}

impl DomainSpec {
    pub fn of(domain: &Domain) -> Self {
        match domain {
            Domain::Ball(b) => Self::Ball {
                center: b.center.clone(),
                radius: b.radius,
                norm: b.norm.name().to_string(),
            },
            Domain::Box(b) => Self::Box {
                lo: b.lo.clone(),
                hi: b.hi.clone(),
            },
        }
    }

    /// The domain, checked as [`Domain::ball`] and [`Domain::boxed`] check it (`task`
    /// names the task in errors).
    pub fn to_domain(&self, task: &str) -> Result<Domain, TaskError> {
        let invalid = |message: String| TaskError::Invalid {
            task: task.to_string(),
            message,
        };
        Ok(match self {
            Self::Ball {
                center,
                radius,
                norm,
            } => {
                let norm = match norm.as_str() {
                    "l2" => Norm::L2,
                    "linf" => Norm::LInf,
                    other => {
                        return Err(invalid(format!("norm must be l2 or linf, not {other:?}")));
                    }
                };
                Domain::ball(center.clone(), *radius, norm)
                    .map_err(|e| invalid(format!("domain: {e}")))?
            }
            Self::Box { lo, hi } => Domain::boxed(lo.clone(), hi.clone())
                .map_err(|e| invalid(format!("domain: {e}")))?,
        })
    }
}

/// A node of the region tree, written out (see the module docs). Coordinates are those
/// the tree runs in: the input space, or, for an L2 ball counted in the first layer's
/// row space, that space's coordinates (recomputed identically by every worker from the
/// network and the ball).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskNode {
    /// The ReLU layer of the next neuron to decide (0-based).
    pub layer: usize,
    /// The next neuron to decide in that layer.
    pub index: usize,
    /// The decided neurons' states in pattern order (`1` active, `0` inactive): every
    /// neuron of the earlier layers, then `index` neurons of this one.
    pub bits: String,
    /// The decided hyperplanes `a . x <= b`, `||a||_2 = 1`, as `(a, b)`.
    pub rows: Vec<(Vec<f64>, f64)>,
    /// The rows' error bound `constant + slope ||x||_inf` (input units), as
    /// `[constant, slope]`.
    pub row_error: [f64; 2],
    /// Interior points of the node, each clear of every decided hyperplane by more than
    /// the error margins.
    pub witnesses: Vec<Vec<f64>>,
    /// A bounding box of the node, `(lo, hi)`.
    pub bbox: Option<(Vec<f64>, Vec<f64>)>,
    /// Whether `bbox` was computed in the node's layer.
    pub bbox_fresh: bool,
    /// For 2-D inputs: a convex polygon containing the node.
    pub polygon: Option<Vec<[f64; 2]>>,
}

impl TaskNode {
    pub(super) fn of(node: &Node) -> Self {
        Self {
            layer: node.layer,
            index: node.index,
            bits: node
                .bits
                .iter()
                .map(|&b| if b { '1' } else { '0' })
                .collect(),
            rows: node.rows.iter().map(|(a, b)| (a.to_vec(), b)).collect(),
            row_error: [node.row_error.constant, node.row_error.slope],
            witnesses: node.witnesses.clone(),
            bbox: node.bbox.clone(),
            bbox_fresh: node.bbox_fresh,
            polygon: node.polygon.as_ref().map(|p| p.to_vec()),
        }
    }

    /// The node in `search`'s tree: checked against the network and the domain, with
    /// the frozen maps of its layer recomputed from its decided states (`root` is the
    /// tree's root, whose maps are the first layer's).
    pub(super) fn to_node(
        &self,
        search: &Search<'_>,
        root: Node,
    ) -> Result<Node, EnumerationError> {
        let bad = |m: String| EnumerationError::InvalidTask(m);
        let widths = search.net.relu_widths();
        let dim = search.domain.dim();
        if self.layer >= search.stop_layer {
            return Err(bad(format!(
                "layer {} is past the last layer the tree decides ({})",
                self.layer, search.stop_layer
            )));
        }
        if self.index > widths[self.layer] {
            return Err(bad(format!(
                "neuron {} is past the width {} of layer {}",
                self.index, widths[self.layer], self.layer
            )));
        }
        let bits = self
            .bits
            .chars()
            .map(|c| match c {
                '1' => Ok(true),
                '0' => Ok(false),
                other => Err(bad(format!("bits must be 0 or 1, not {other:?}"))),
            })
            .collect::<Result<Vec<bool>, _>>()?;
        let expected = widths[..self.layer].iter().sum::<usize>() + self.index;
        if bits.len() != expected {
            return Err(bad(format!(
                "{} decided neurons, but layer {} neuron {} follows {expected}",
                bits.len(),
                self.layer,
                self.index
            )));
        }
        let finite = |v: &[f64]| v.len() == dim && v.iter().all(|x| x.is_finite());
        if let Some(k) = self
            .rows
            .iter()
            .position(|(a, b)| !finite(a) || !b.is_finite())
        {
            return Err(bad(format!(
                "row {k} is not {dim} finite coefficients and a finite bound"
            )));
        }
        if self.witnesses.is_empty() || !self.witnesses.iter().all(|w| finite(w)) {
            return Err(bad(format!(
                "the witnesses must be one or more points of {dim} finite coordinates"
            )));
        }
        if !self.row_error.iter().all(|e| e.is_finite() && *e >= 0.0) {
            return Err(bad("the row error must be finite and non-negative".into()));
        }
        if let Some((lo, hi)) = &self.bbox
            && !(finite(lo) && finite(hi) && lo.iter().zip(hi).all(|(l, h)| l <= h))
        {
            return Err(bad(format!(
                "the bounding box must have {dim} finite coordinates with lo <= hi"
            )));
        }
        if let Some(p) = &self.polygon
            && (dim != 2 || p.len() < 3 || p.iter().flatten().any(|v| !v.is_finite()))
        {
            return Err(bad(
                "a polygon needs 2-D inputs and three or more finite vertices".into(),
            ));
        }
        let mut rows = HalfSpaces::with_capacity(dim, self.rows.len());
        for (a, b) in &self.rows {
            rows.push(a, *b);
        }
        // Replays the layers' maps as the tree computes them when it moves to the next
        // layer (`Search::next_layer_maps`), with the decided states of each layer.
        let mut maps = Arc::clone(&root.maps);
        let mut end = 0;
        for (l, width) in widths.iter().enumerate().take(self.layer) {
            end += width;
            let done = Node {
                layer: l,
                index: *width,
                bits: bits[..end].to_vec(),
                maps,
                ..root.clone()
            };
            maps = Arc::new(search.next_layer_maps(&done));
        }
        Ok(Node {
            layer: self.layer,
            index: self.index,
            bits,
            rows,
            row_error: MapError {
                constant: self.row_error[0],
                slope: self.row_error[1],
            },
            witnesses: self.witnesses.clone(),
            bbox: self.bbox.clone(),
            bbox_fresh: self.bbox_fresh,
            polygon: self.polygon.clone().map(Arc::new),
            maps,
        })
    }
}

/// One node of a count's region tree, to be explored by whoever runs it (see the module
/// docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountTask {
    /// [`TASK_FORMAT`].
    pub format: u32,
    /// The task's place in the count: `0` for the root, `P.k` for the `k`-th node left
    /// open by task `P`.
    pub id: String,
    /// [`network_digest`] of the network.
    pub network: String,
    pub domain: DomainSpec,
    /// Enumerate only the first `k` ReLU layers exactly and bound the rest.
    pub exact_layers: Option<usize>,
    /// Collect the certified regions' affine-map keys (to count distinct maps).
    pub affine_maps: bool,
    /// A proven upper bound on the regions of the task's subtree (a decimal integer).
    pub bound: String,
    /// The node; `None` for the root (the whole domain).
    pub node: Option<TaskNode>,
}

impl CountTask {
    /// The root of the count of `net`'s regions in `domain`: its bound is the plain
    /// local bound over the domain.
    pub fn root(
        net: &Network,
        domain: &Domain,
        exact_layers: Option<usize>,
        affine_maps: bool,
    ) -> Result<Self, TaskError> {
        domain
            .check_dim(net.input_dim())
            .map_err(EnumerationError::from)?;
        if domain.affine_dim() < domain.dim() {
            return Err(EnumerationError::EmptyInterior.into());
        }
        let plain = local_region_bound(&BoundPropagator::new(net), domain, Method::Crown)
            .map_err(EnumerationError::from)?;
        Ok(Self {
            format: TASK_FORMAT,
            id: "0".into(),
            network: network_digest(net),
            domain: DomainSpec::of(domain),
            exact_layers,
            affine_maps,
            bound: plain.local.0.to_string(),
            node: None,
        })
    }

    /// [`Self::bound`] as a number.
    pub fn bound_value(&self) -> Result<BigUint, TaskError> {
        self.bound.parse().map_err(|_| TaskError::Invalid {
            task: self.id.clone(),
            message: format!("bound {:?} is not a non-negative integer", self.bound),
        })
    }

    /// The task as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a task serializes")
    }

    /// A task from JSON, checked for its format.
    pub fn from_json(text: &str) -> Result<Self, TaskError> {
        let task: Self = serde_json::from_str(text)?;
        if task.format != TASK_FORMAT {
            return Err(TaskError::Format { found: task.format });
        }
        task.bound_value()?;
        Ok(task)
    }
}

/// What running a task found ([`run_count_task`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskOutcome {
    /// [`TASK_FORMAT`].
    pub format: u32,
    /// The task's id.
    pub task: String,
    /// [`task_digest`] of the task run.
    pub task_digest: String,
    /// [`network_digest`] of the network.
    pub network: String,
    /// Certified regions found in the explored part of the subtree.
    pub regions: u64,
    pub degenerate: u64,
    /// Sides neither certified nor proven empty, and unverified leaves.
    pub uncertain: u64,
    /// What the uncertain sides may hold (a decimal integer).
    pub uncertain_bound: String,
    /// With `exact_layers`: the sum of the local bounds inside the regions found
    /// (a decimal integer; `0` otherwise).
    pub bounded: String,
    pub unverified: u64,
    pub solves: u64,
    pub nodes: u64,
    /// The certified regions' affine-map keys, when the task asks for them.
    pub affine_maps: Option<Vec<Vec<i64>>>,
    /// The nodes left open (at the budget or the emit depth), as tasks.
    pub unfinished: Vec<CountTask>,
    /// Wall time of the run, in seconds.
    pub seconds: f64,
}

impl TaskOutcome {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an outcome serializes")
    }

    pub fn from_json(text: &str) -> Result<Self, TaskError> {
        let outcome: Self = serde_json::from_str(text)?;
        if outcome.format != TASK_FORMAT {
            return Err(TaskError::Format {
                found: outcome.format,
            });
        }
        Ok(outcome)
    }
}

/// How to run a task.
#[derive(Debug, Clone, Copy, Default)]
pub struct TaskRun {
    /// Leave the nodes still open after this much time (the subtree is then returned in
    /// pieces, as new tasks).
    pub budget: Option<Duration>,
    /// With `Some(k)`, explore only down to `k` splits below the task's node and return
    /// the nodes there as new tasks (to hand out many tasks quickly).
    pub emit_depth: Option<usize>,
    /// Explore the subtree with rayon's threads.
    pub parallel: bool,
    /// A flag that stops the run when raised; the open nodes are returned as tasks.
    pub interrupt: Option<&'static AtomicBool>,
}

/// Explores `task`'s subtree (see the module docs); `sink` receives the certified
/// regions found.
pub fn run_count_task(
    net: &Network,
    task: &CountTask,
    run: TaskRun,
    sink: Option<&(dyn Fn(RegionRecord) + Sync)>,
) -> Result<TaskOutcome, TaskError> {
    if task.format != TASK_FORMAT {
        return Err(TaskError::Format { found: task.format });
    }
    let digest = network_digest(net);
    if task.network != digest {
        return Err(TaskError::NetworkMismatch {
            expected: task.network.clone(),
            found: digest,
        });
    }
    let domain = task.domain.to_domain(&task.id)?;
    let options = EnumerationOptions {
        max_regions: None,
        time_limit: run.budget,
        exact_layers: task.exact_layers,
        affine_maps: task.affine_maps,
        parallel: run.parallel,
        interrupt: run.interrupt,
    };
    let start = Start::Task {
        node: task.node.as_ref(),
        emit_depth: run.emit_depth,
    };
    let result = run_tree(
        net,
        &domain,
        options,
        sink,
        None,
        Strategy::default(),
        start,
    )
    .map_err(|e| match e {
        EnumerationError::InvalidTask(message) => TaskError::Invalid {
            task: task.id.clone(),
            message,
        },
        e => e.into(),
    })?;
    // The children's ids follow the order of their decided states, so that the same
    // open nodes get the same ids however the threads interleaved.
    let mut open = result.unfinished;
    open.sort_by(|(a, _), (b, _)| {
        (&a.bits, a.layer, a.index, a.rows.len()).cmp(&(&b.bits, b.layer, b.index, b.rows.len()))
    });
    let unfinished = open
        .into_iter()
        .enumerate()
        .map(|(k, (node, bound))| CountTask {
            format: TASK_FORMAT,
            id: format!("{}.{k}", task.id),
            network: task.network.clone(),
            domain: task.domain.clone(),
            exact_layers: task.exact_layers,
            affine_maps: task.affine_maps,
            bound: bound.to_string(),
            node: Some(node),
        })
        .collect();
    let mut maps: Vec<Vec<i64>> = result.maps.into_iter().collect();
    maps.sort_unstable();
    Ok(TaskOutcome {
        format: TASK_FORMAT,
        task: task.id.clone(),
        task_digest: task_digest(task),
        network: task.network.clone(),
        regions: result.regions,
        degenerate: result.degenerate,
        uncertain: result.uncertain,
        uncertain_bound: result.uncertain_bound.to_string(),
        bounded: result.bounded.to_string(),
        unverified: result.unverified,
        solves: result.solves,
        nodes: result.nodes,
        affine_maps: task.affine_maps.then_some(maps),
        unfinished,
        seconds: result.elapsed.as_secs_f64(),
    })
}

/// The running merge of a count's outcomes (see the module docs): which tasks are open,
/// and the sums of what the merged outcomes found.
#[derive(Debug, Clone)]
pub struct CountLedger {
    network: String,
    domain: DomainSpec,
    exact_layers: Option<usize>,
    affine_maps: bool,
    relu_layers: usize,
    /// The plain local bound over the domain (the root's bound).
    plain: BigUint,
    open: BTreeMap<String, (CountTask, BigUint)>,
    merged: u64,
    regions: u64,
    degenerate: u64,
    uncertain: u64,
    uncertain_bound: BigUint,
    bounded: BigUint,
    unverified: u64,
    solves: u64,
    nodes: u64,
    maps: HashSet<Vec<i64>>,
}

impl CountLedger {
    /// A ledger whose only open task is `root` (made by [`CountTask::root`]) of a
    /// network with `relu_layers` ReLU layers.
    pub fn new(root: &CountTask, relu_layers: usize) -> Result<Self, TaskError> {
        let bound = root.bound_value()?;
        let mut open = BTreeMap::new();
        open.insert(root.id.clone(), (root.clone(), bound.clone()));
        Ok(Self {
            network: root.network.clone(),
            domain: root.domain.clone(),
            exact_layers: root.exact_layers,
            affine_maps: root.affine_maps,
            relu_layers,
            plain: bound,
            open,
            merged: 0,
            regions: 0,
            degenerate: 0,
            uncertain: 0,
            uncertain_bound: BigUint::from(0u32),
            bounded: BigUint::from(0u32),
            unverified: 0,
            solves: 0,
            nodes: 0,
            maps: HashSet::new(),
        })
    }

    /// Merges the outcome of an open task; returns the tasks it opened (its unfinished
    /// nodes). An outcome of a task that is not open (unknown, or merged already) or of
    /// another count is refused and changes nothing.
    pub fn merge(&mut self, outcome: TaskOutcome) -> Result<Vec<CountTask>, TaskError> {
        if outcome.network != self.network {
            return Err(TaskError::OtherCount {
                task: outcome.task,
                message: format!("network {} rather than {}", outcome.network, self.network),
            });
        }
        match self.open.get(&outcome.task) {
            None => return Err(TaskError::NotOpen(outcome.task)),
            // An outcome of another task under the same id (a task file rewritten by a
            // rerun of its parent): as stale as an unknown one.
            Some((task, _)) if task_digest(task) != outcome.task_digest => {
                return Err(TaskError::NotOpen(outcome.task));
            }
            Some(_) => {}
        }
        let parse = |what: &str, v: &str| {
            v.parse::<BigUint>().map_err(|_| TaskError::Invalid {
                task: outcome.task.clone(),
                message: format!("{what} {v:?} is not a non-negative integer"),
            })
        };
        let uncertain_bound = parse("uncertain_bound", &outcome.uncertain_bound)?;
        let bounded = parse("bounded", &outcome.bounded)?;
        let mut children = Vec::with_capacity(outcome.unfinished.len());
        let mut ids = HashSet::new();
        for child in &outcome.unfinished {
            // `P.k`: one more level below the task, each id once.
            let prefix_ok = child
                .id
                .strip_prefix(outcome.task.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()));
            if !prefix_ok
                || !ids.insert(child.id.as_str())
                || child.network != self.network
                || child.domain != self.domain
                || child.exact_layers != self.exact_layers
                || child.affine_maps != self.affine_maps
                || self.open.contains_key(&child.id)
            {
                return Err(TaskError::OtherCount {
                    task: outcome.task.clone(),
                    message: format!("its open node {} does not belong to it", child.id),
                });
            }
            children.push((child.clone(), child.bound_value()?));
        }
        self.open.remove(&outcome.task);
        self.merged += 1;
        self.regions += outcome.regions;
        self.degenerate += outcome.degenerate;
        self.uncertain += outcome.uncertain;
        self.uncertain_bound += uncertain_bound;
        self.bounded += bounded;
        self.unverified += outcome.unverified;
        self.solves += outcome.solves;
        self.nodes += outcome.nodes;
        if let Some(keys) = outcome.affine_maps {
            self.maps.extend(keys);
        }
        for (child, bound) in &children {
            self.open
                .insert(child.id.clone(), (child.clone(), bound.clone()));
        }
        Ok(children.into_iter().map(|(c, _)| c).collect())
    }

    /// The open tasks, by id.
    pub fn open(&self) -> impl ExactSizeIterator<Item = &CountTask> + '_ {
        self.open.values().map(|(t, _)| t)
    }

    /// Whether `id` is open.
    pub fn is_open(&self, id: &str) -> bool {
        self.open.contains_key(id)
    }

    /// Outcomes merged so far.
    pub fn merged(&self) -> u64 {
        self.merged
    }

    /// Regions found so far.
    pub fn regions(&self) -> u64 {
        self.regions
    }

    /// The count so far as an [`Enumeration`] (`elapsed` is the caller's wall time):
    /// exact when no task is open and nothing is uncertain, else the interval of the
    /// module docs.
    pub fn enumeration(&self, elapsed: Duration) -> Enumeration {
        let complete = self.open.is_empty();
        let partial = self.exact_layers.is_some_and(|k| k < self.relu_layers);
        let upper_bound = if complete && !partial && self.uncertain == 0 {
            RegionCount(BigUint::from(self.regions))
        } else {
            let open: BigUint = self.open.values().map(|(_, b)| b).sum();
            let summed = open
                + &self.bounded
                + &self.uncertain_bound
                + BigUint::from(if partial { 0 } else { self.regions });
            RegionCount(summed.min(self.plain.clone()))
        };
        Enumeration {
            regions: self.regions,
            degenerate: self.degenerate,
            uncertain: self.uncertain,
            complete,
            upper_bound,
            affine_maps: self.affine_maps.then_some(self.maps.len()),
            unverified: self.unverified,
            solves: self.solves,
            nodes: self.nodes,
            elapsed,
        }
    }
}

/// Splits a count into at least `into` open tasks (fewer when the whole tree has fewer
/// nodes to split): repeatedly runs the open task of the largest bound down to its next
/// split. Returns the ledger and the outcomes merged into it (whose regions, found on
/// the way and given to `sink`, belong to the count).
pub fn split_count(
    net: &Network,
    root: &CountTask,
    into: usize,
    parallel: bool,
    sink: Option<&(dyn Fn(RegionRecord) + Sync)>,
) -> Result<(CountLedger, Vec<TaskOutcome>), TaskError> {
    let mut ledger = CountLedger::new(root, net.relu_layer_count())?;
    let mut outcomes = Vec::new();
    while ledger.open.len() < into {
        let Some(largest) = ledger
            .open
            .values()
            .max_by(|(a, x), (b, y)| x.cmp(y).then_with(|| b.id.cmp(&a.id)))
            .map(|(t, _)| t.clone())
        else {
            break;
        };
        let run = TaskRun {
            emit_depth: Some(1),
            parallel,
            ..TaskRun::default()
        };
        let outcome = run_count_task(net, &largest, run, sink)?;
        ledger.merge(outcome.clone())?;
        outcomes.push(outcome);
    }
    Ok((ledger, outcomes))
}
