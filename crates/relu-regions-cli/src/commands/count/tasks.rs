//! `count --emit-tasks DIR`, `count --run-task FILE` and `count --merge DIR`: a count
//! split into task files for batch schedulers, and merged exactly
//! ([`relu_regions::exact::tasks`]).
//!
//! A task directory holds `root.json` (the count: network digest, domain, options, the
//! plain local bound), `task_ID.json` (open nodes of the region tree) and
//! `result_ID.json` (what running task `ID` found, with the nodes it left open). Running
//! a task writes its result and its open nodes as new task files beside it; merging
//! reads the root and every result, parents before children.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use relu_regions::bound::RegionCount;
use relu_regions::exact::tasks::{
    CountLedger, CountTask, DomainSpec, TaskError, TaskOutcome, TaskRun, run_count_task,
    split_count,
};
use relu_regions::exact::{Enumeration, RegionRecord};
use relu_regions::{Domain, Network};
use serde::Serialize;

use super::{CountArgs, CountReport, RegionsOut, print_count};
use crate::output::print_json;

/// The tasks of a merge, in the report.
#[derive(Debug, Serialize)]
pub(crate) struct TaskSummary {
    pub(crate) merged: u64,
    pub(crate) open: usize,
    /// Result files whose task was not open (left by an earlier run of a parent).
    pub(crate) stale: usize,
    /// The files of the open tasks (at most 20 named).
    pub(crate) open_files: Vec<String>,
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    // Written whole under a temporary name, then renamed: a reader never sees half a file.
    let tmp = path.with_extension("json.partial");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

fn task_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("task_{id}.json"))
}

fn result_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("result_{id}.json"))
}

/// `--emit-tasks DIR`.
pub(super) fn emit(args: &CountArgs, net: &Network, domain: &Domain, dir: &Path) -> Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let into = args.tasks.unwrap_or(2 * cores).max(1);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if std::fs::read_dir(dir)?.next().is_some() {
        bail!(
            "{} is not empty: emit tasks into a new directory (a merge reads every result there)",
            dir.display()
        );
    }
    let root = CountTask::root(net, domain, args.exact_layers, args.affine_maps)
        .context("making the count's root task")?;
    let (ledger, outcomes) =
        split_count(net, &root, into, true, None).context("splitting the count")?;
    write_file(&dir.join("root.json"), &root.to_json())?;
    for outcome in &outcomes {
        write_file(&result_path(dir, &outcome.task), &outcome.to_json())?;
    }
    let open: Vec<&CountTask> = ledger.open().collect();
    for task in &open {
        write_file(&task_path(dir, &task.id), &task.to_json())?;
    }
    #[derive(Serialize)]
    struct Emitted<'a> {
        directory: String,
        tasks: usize,
        regions_found_while_splitting: u64,
        network: &'a str,
    }
    let report = Emitted {
        directory: dir.display().to_string(),
        tasks: open.len(),
        regions_found_while_splitting: ledger.regions(),
        network: &root.network,
    };
    if args.json {
        return print_json(&report);
    }
    println!(
        "{} tasks in {} ({} regions found while splitting)",
        report.tasks, report.directory, report.regions_found_while_splitting
    );
    println!(
        "run each:   relu-regions count {} --run-task {} [--time-limit SECONDS]",
        args.model.model.display(),
        task_path(dir, "ID").display()
    );
    println!(
        "then merge: relu-regions count {} --merge {}",
        args.model.model.display(),
        dir.display()
    );
    Ok(())
}

/// `--run-task FILE`.
pub(super) fn run_task(args: &CountArgs, file: &Path) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let task = CountTask::from_json(&text).with_context(|| format!("{}", file.display()))?;
    let loaded = args.model.load()?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let run = TaskRun {
        budget: crate::model::time_limit(args.time_limit)?,
        emit_depth: None,
        parallel: true,
        interrupt: Some(crate::interrupt::flag()),
    };
    let out = RegionsOut::create(args.regions_out.as_deref())?;
    let sink = |r: RegionRecord| out.record(&r);
    let outcome = run_count_task(
        &loaded.network,
        &task,
        run,
        out.is_on()
            .then_some(&sink as &(dyn Fn(RegionRecord) + Sync)),
    )
    .with_context(|| format!("running {}", file.display()))?;
    out.finish()?;
    // The open nodes first, then the result that names them: a merge that sees the
    // result finds its tasks.
    for child in &outcome.unfinished {
        write_file(&task_path(dir, &child.id), &child.to_json())?;
    }
    let result = result_path(dir, &task.id);
    write_file(&result, &outcome.to_json())?;
    #[derive(Serialize)]
    struct Ran {
        task: String,
        result: String,
        regions: u64,
        uncertain: u64,
        opened: Vec<String>,
        seconds: f64,
    }
    let report = Ran {
        task: task.id.clone(),
        result: result.display().to_string(),
        regions: outcome.regions,
        uncertain: outcome.uncertain,
        opened: outcome
            .unfinished
            .iter()
            .map(|t| task_path(dir, &t.id).display().to_string())
            .collect(),
        seconds: outcome.seconds,
    };
    if args.json {
        print_json(&report)?;
    } else {
        println!(
            "task {}: {} regions, {} uncertain, {:.3} s -> {}",
            report.task, report.regions, report.uncertain, report.seconds, report.result
        );
        if !report.opened.is_empty() {
            println!(
                "{} nodes left open at the time limit, written as new tasks beside it",
                report.opened.len()
            );
        }
    }
    crate::interrupt::outcome(crate::interrupt::raised())
}

/// The ledger of the tasks in `dir`: the root, then every result, parents before
/// children. Returns it with the number of stale results and the work's seconds.
fn read_ledger(dir: &Path, relu_layers: usize) -> Result<(CountTask, CountLedger, usize, f64)> {
    let root_path = dir.join("root.json");
    let text = std::fs::read_to_string(&root_path)
        .with_context(|| format!("reading {} (made by --emit-tasks)", root_path.display()))?;
    let root = CountTask::from_json(&text).with_context(|| format!("{}", root_path.display()))?;
    let mut ledger = CountLedger::new(&root, relu_layers)?;
    let mut results = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(id) = name
            .strip_prefix("result_")
            .and_then(|n| n.strip_suffix(".json"))
        {
            let depth = id.split('.').count();
            results.push((depth, id.to_string(), path));
        }
    }
    results.sort();
    let (mut stale, mut seconds) = (0, 0.0);
    for (_, _, path) in results {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let outcome =
            TaskOutcome::from_json(&text).with_context(|| format!("{}", path.display()))?;
        let took = outcome.seconds;
        match ledger.merge(outcome) {
            Ok(_) => seconds += took,
            Err(TaskError::NotOpen(_)) => stale += 1,
            Err(e) => return Err(e).with_context(|| format!("merging {}", path.display())),
        }
    }
    Ok((root, ledger, stale, seconds))
}

fn describe(domain: &DomainSpec) -> String {
    match domain {
        DomainSpec::Ball { radius, norm, .. } => format!("{norm} ball of radius {radius}"),
        DomainSpec::Box { lo, .. } => format!("box in {} dimensions", lo.len()),
    }
}

/// `--merge DIR`.
pub(super) fn merge(args: &CountArgs, dir: &Path) -> Result<()> {
    let loaded = args.model.load()?;
    let net = &loaded.network;
    let (root, ledger, stale, seconds) = read_ledger(dir, net.relu_layer_count())?;
    let digest = relu_regions::exact::tasks::network_digest(net);
    if digest != root.network {
        return Err(TaskError::NetworkMismatch {
            expected: root.network.clone(),
            found: digest,
        })
        .with_context(|| format!("merging {}", dir.display()));
    }
    let result: Enumeration = ledger.enumeration(Duration::from_secs_f64(seconds));
    let depth = net.relu_layer_count();
    let exact = result.is_exact() && root.exact_layers.is_none_or(|k| k >= depth);
    let plain = RegionCount(root.bound_value()?).log2();
    let open_files: Vec<String> = ledger
        .open()
        .take(20)
        .map(|t| task_path(dir, &t.id).display().to_string())
        .collect();
    let report = CountReport {
        model: args.model.model.display().to_string(),
        domain: describe(&root.domain),
        regions: result.regions,
        degenerate: result.degenerate,
        uncertain: result.uncertain,
        complete: result.complete,
        exact,
        interrupted: false,
        affine_maps: result.affine_maps,
        upper_bound: (!exact).then(|| result.upper_bound.to_string()),
        upper_bound_log2: result.upper_bound.log2(),
        local_bound_log2: plain,
        exact_layers: root.exact_layers,
        unverified: result.unverified,
        solves: result.solves,
        nodes: result.nodes,
        seconds,
        tasks: Some(TaskSummary {
            merged: ledger.merged(),
            open: ledger.open().len(),
            stale,
            open_files,
        }),
    };
    print_count(&report, args.json, depth)
}
