//! `relu-regions count MODEL (--center C --radius R [--norm l2|linf] | --vnnlib FILE)`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result};
use relu_regions::bound::local_region_bound;
use relu_regions::exact::{EnumerationOptions, RegionRecord, enumerate_regions};
use relu_regions::stability::{BoundPropagator, Method};
use serde::Serialize;

use crate::model::{DomainArgs, ModelArgs};
use crate::output::{Progress, print_json};

mod tasks;

#[derive(Debug, clap::Args)]
pub struct CountArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    domain: DomainArgs,
    /// Stop after this many regions; the answer is then an interval.
    #[arg(long)]
    max_regions: Option<u64>,
    /// Stop after this many seconds; the answer is then an interval.
    #[arg(long, allow_negative_numbers = true)]
    time_limit: Option<f64>,
    /// Enumerate the first k ReLU layers exactly and bound the rest inside each of their
    /// regions (0: the plain local bound; the depth: the exact count).
    #[arg(long)]
    exact_layers: Option<usize>,
    /// Also count distinct affine maps of the output (linear regions of the function).
    #[arg(long)]
    affine_maps: bool,
    /// Write every region (pattern, interior point, certified inner radius) as JSON lines.
    #[arg(long)]
    regions_out: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// No progress on stderr (by default a bar on a terminal, otherwise a line every 5 s).
    #[arg(long)]
    quiet: bool,
    /// Split the count into tasks for a batch scheduler (Slurm and the like): write them
    /// to DIR (`root.json`, `task_ID.json`; the regions found while splitting in
    /// `result_ID.json`). Run each with --run-task, then --merge DIR.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["run_task", "merge", "max_regions", "time_limit", "regions_out"])]
    emit_tasks: Option<PathBuf>,
    /// With --emit-tasks: how many tasks (at least; fewer when the tree has fewer nodes;
    /// default twice the cores).
    #[arg(long, value_name = "N", requires = "emit_tasks")]
    tasks: Option<usize>,
    /// Run one task file of --emit-tasks (the domain and options come from it; the model
    /// must be the one it was emitted from). Writes `result_ID.json` beside it, and the
    /// nodes left open at --time-limit (the task's budget) as new `task_ID.json` files.
    /// With --regions-out, this task's regions (those found while --emit-tasks split the
    /// count are counted in its results, not listed).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["merge", "max_regions", "exact_layers", "affine_maps", "vnnlib", "center", "center_file", "radius"])]
    run_task: Option<PathBuf>,
    /// Merge the results in DIR into the count (exact when every task has run; else the
    /// interval, with the tasks still open).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["max_regions", "time_limit", "exact_layers", "affine_maps", "vnnlib", "center", "center_file", "radius", "regions_out"])]
    merge: Option<PathBuf>,
}

#[derive(Serialize)]
struct CountReport {
    model: String,
    domain: String,
    /// Activation regions with nonempty interior meeting the domain (of the first k
    /// layers with --exact-layers k).
    regions: u64,
    /// Neurons decided by a tie to an earlier, exactly proportional neuron on a node that
    /// meets their shared hyperplane (duplicated, negated or scaled neurons).
    degenerate: u64,
    /// Sides neither certified nor proven empty, and leaves with no certified witness:
    /// the answer is then the interval [regions, upper_bound] (docs/math.md §5.2).
    uncertain: u64,
    /// Whether the enumeration ran to the end.
    complete: bool,
    /// Whether `regions` is the exact count (complete, every layer, nothing uncertain).
    exact: bool,
    /// Whether Ctrl-C (SIGINT) or SIGTERM stopped the enumeration.
    interrupted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    affine_maps: Option<usize>,
    /// Proven upper bound (decimal) when the answer is not exact.
    #[serde(skip_serializing_if = "Option::is_none")]
    upper_bound: Option<String>,
    upper_bound_log2: f64,
    /// The plain local bound (CROWN) over the whole domain, for comparison.
    local_bound_log2: f64,
    exact_layers: Option<usize>,
    unverified: u64,
    solves: u64,
    nodes: u64,
    seconds: f64,
    /// With --merge: the tasks merged and still open.
    #[serde(skip_serializing_if = "Option::is_none")]
    tasks: Option<tasks::TaskSummary>,
}

/// `--regions-out`: every region found, as a JSON line, when a path is given (a sink for
/// the enumeration's threads; the first write error is kept and reported at the end).
pub(crate) struct RegionsOut {
    writer: Option<Mutex<std::io::BufWriter<std::fs::File>>>,
    error: Mutex<Option<std::io::Error>>,
}

impl RegionsOut {
    pub(crate) fn create(path: Option<&std::path::Path>) -> Result<Self> {
        let writer = match path {
            Some(path) => Some(Mutex::new(std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?,
            ))),
            None => None,
        };
        Ok(Self {
            writer,
            error: Mutex::new(None),
        })
    }

    /// Whether a path was given.
    pub(crate) fn is_on(&self) -> bool {
        self.writer.is_some()
    }

    pub(crate) fn record(&self, r: &RegionRecord) {
        if let Some(w) = &self.writer
            && let Err(e) = writeln!(
                w.lock().expect("no panics hold the lock"),
                "{}",
                json_line(r)
            )
        {
            *self.error.lock().expect("no panics hold the lock") = Some(e);
        }
    }

    /// Flushes the file, or reports the first write error.
    pub(crate) fn finish(self) -> Result<()> {
        if let Some(e) = self.error.into_inner().expect("no panics hold the lock") {
            return Err(e).context("writing --regions-out");
        }
        if let Some(w) = self.writer {
            w.into_inner().expect("no panics hold the lock").flush()?;
        }
        Ok(())
    }
}

fn json_line(r: &RegionRecord) -> String {
    let value = serde_json::json!({
        "pattern": r.pattern.to_string(),
        "interior_point": r.interior_point,
        "inner_radius": r.inner_radius,
    });
    value.to_string()
}

pub fn run(args: &CountArgs) -> Result<()> {
    if let Some(dir) = &args.merge {
        return tasks::merge(args, dir);
    }
    if let Some(file) = &args.run_task {
        return tasks::run_task(args, file);
    }
    let loaded = args.model.load()?;
    let net = &loaded.network;
    let (domain, description) = args.domain.domain(net.input_dim())?;
    if let Some(dir) = &args.emit_tasks {
        return tasks::emit(args, net, &domain, dir);
    }
    let options = EnumerationOptions {
        max_regions: args.max_regions,
        time_limit: crate::model::time_limit(args.time_limit)?,
        exact_layers: args.exact_layers,
        affine_maps: args.affine_maps,
        parallel: true,
        interrupt: Some(crate::interrupt::flag()),
    };
    let out = RegionsOut::create(args.regions_out.as_deref())?;
    let sink = |r: RegionRecord| out.record(&r);
    let bar = Progress::spinner("counting", args.quiet);
    let progress = |n: u64| bar.set_message(format!("{n} regions"));
    let result = enumerate_regions(
        net,
        &domain,
        options,
        out.is_on()
            .then_some(&sink as &(dyn Fn(RegionRecord) + Sync)),
        Some(&progress),
    )
    .context("counting regions")?;
    bar.finish_and_clear();
    out.finish()?;
    let p = BoundPropagator::new(net);
    let local = local_region_bound(&p, &domain, Method::Crown)?;
    let depth = net.relu_layer_count();
    let exact = result.is_exact() && args.exact_layers.is_none_or(|k| k >= depth);
    let report = CountReport {
        model: args.model.model.display().to_string(),
        domain: description,
        regions: result.regions,
        degenerate: result.degenerate,
        uncertain: result.uncertain,
        complete: result.complete,
        exact,
        interrupted: crate::interrupt::raised() && !result.complete,
        affine_maps: result.affine_maps,
        upper_bound: (!exact).then(|| result.upper_bound.to_string()),
        upper_bound_log2: result.upper_bound.log2(),
        local_bound_log2: local.local.log2(),
        exact_layers: args.exact_layers,
        unverified: result.unverified,
        solves: result.solves,
        nodes: result.nodes,
        seconds: result.elapsed.as_secs_f64(),
        tasks: None,
    };
    print_count(&report, args.json, depth)
}

/// Prints a count (as text, or JSON with `json`) of a network with `depth` ReLU layers.
fn print_count(report: &CountReport, json: bool, depth: usize) -> Result<()> {
    if json {
        print_json(report)?;
        return crate::interrupt::outcome(report.interrupted);
    }
    let exact = report.exact;
    println!("domain        {}", report.domain);
    // Why an enumeration that did not finish stopped.
    let stopped = if report.interrupted {
        "interrupted".to_string()
    } else if let Some(t) = report.tasks.as_ref().filter(|_| !report.complete) {
        format!("{} tasks still open", t.open)
    } else if !report.complete {
        "a limit was hit".to_string()
    } else {
        format!(
            "{} sides or leaves uncertain (neither certified nor proven empty; docs/math.md §5.2)",
            report.uncertain
        )
    };
    if exact {
        println!(
            "regions       {} (exact: every activation region whose interior meets the domain)",
            report.regions
        );
        if report.regions > 0 {
            println!(
                "local bound   2^{:.2} (CROWN), {:.2} bits above the exact count",
                report.local_bound_log2,
                report.local_bound_log2 - (report.regions as f64).log2()
            );
        }
    } else if let Some(k) = report.exact_layers.filter(|&k| k < depth) {
        if report.complete {
            println!("regions of the first {k} layers   {}", report.regions);
            println!(
                "upper bound   {} (2^{:.2}), exact in {k} layers, local bound inside each region; plain local bound 2^{:.2}",
                report.upper_bound.as_deref().unwrap_or(""),
                report.upper_bound_log2,
                report.local_bound_log2
            );
        } else {
            println!(
                "regions of the first {k} layers   at least {}: {} before they were all found",
                report.regions, stopped
            );
            println!(
                "upper bound   {} (2^{:.2}), from the regions found and the local bound of the unfinished part; plain local bound 2^{:.2}",
                report.upper_bound.as_deref().unwrap_or(""),
                report.upper_bound_log2,
                report.local_bound_log2
            );
        }
    } else {
        println!(
            "regions       between {} and {} (2^{:.2}): {}",
            report.regions,
            report.upper_bound.as_deref().unwrap_or(""),
            report.upper_bound_log2,
            stopped
        );
    }
    if let Some(m) = report.affine_maps {
        println!("affine maps   {m} (linear regions of the function)");
    }
    if report.degenerate > 0 {
        println!(
            "degenerate    {} (neurons tied to an exactly proportional earlier one; no regions of their own)",
            report.degenerate
        );
    }
    if report.uncertain > 0 && !report.complete {
        println!(
            "uncertain     {} sides or leaves neither certified nor proven empty (within the interval)",
            report.uncertain
        );
    }
    println!(
        "work          {} nodes, {} solves, {:.3} s{}",
        report.nodes,
        report.solves,
        report.seconds,
        if report.tasks.is_some() {
            " (summed over the tasks)"
        } else {
            ""
        }
    );
    if let Some(t) = &report.tasks {
        println!("tasks         {} merged, {} open", t.merged, t.open);
        if t.stale > 0 {
            println!(
                "              {} result files ignored: their tasks were not open (merged already, or an earlier run of a task file since rewritten)",
                t.stale
            );
        }
        if let Some(first) = t.open_files.first() {
            println!(
                "              run the open ones (for instance {first}) with --run-task, then merge again"
            );
        }
    }
    crate::interrupt::outcome(report.interrupted)
}
