//! Counts split into tasks and merged ([`super::tasks`]) against the single process.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::tasks::{
    CountLedger, CountTask, TaskError, TaskOutcome, TaskRun, run_count_task, split_count,
};
use super::{EnumerationOptions, RegionRecord, enumerate_regions};
use crate::domain::{Domain, Norm};
use crate::network::Network;
use crate::random::{Init, degenerate_variant, leaky_variant, random_small_architecture};

/// The domain of trial `trial`: an L2 ball, an L-inf ball or a box around a random point.
fn trial_domain(net: &Network, trial: usize, rng: &mut StdRng) -> Domain {
    let d = net.input_dim();
    let c: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
    match trial % 3 {
        0 => Domain::ball(c, 0.6, Norm::L2).unwrap(),
        1 => Domain::ball(c, 0.4, Norm::LInf).unwrap(),
        _ => {
            let lo = c.iter().map(|v| v - rng.random_range(0.1..0.5)).collect();
            let hi = c.iter().map(|v| v + rng.random_range(0.1..0.5)).collect();
            Domain::boxed(lo, hi).unwrap()
        }
    }
}

/// Runs a count as tasks: split into `into`, then every open task with `budget`, each
/// task and outcome through JSON, in first-in first-out order. Returns the ledger, the
/// regions' patterns (with repeats, if any) and the number of tasks run.
fn run_as_tasks(
    net: &Network,
    root: &CountTask,
    into: usize,
    budget: Duration,
    parallel: bool,
) -> (CountLedger, Vec<Vec<bool>>, usize) {
    let found = Mutex::new(Vec::new());
    let sink = |r: RegionRecord| found.lock().unwrap().push(r.pattern.iter().collect());
    let (mut ledger, _) = split_count(net, root, into, false, Some(&sink)).unwrap();
    let mut queue: VecDeque<CountTask> = ledger.open().cloned().collect();
    let mut runs = 0;
    while let Some(task) = queue.pop_front() {
        let task = CountTask::from_json(&task.to_json()).unwrap();
        let run = TaskRun {
            budget: Some(budget),
            parallel,
            ..TaskRun::default()
        };
        let outcome = run_count_task(net, &task, run, Some(&sink)).unwrap();
        let outcome = TaskOutcome::from_json(&outcome.to_json()).unwrap();
        runs += 1;
        queue.extend(ledger.merge(outcome).unwrap());
        assert!(runs < 100_000, "the tasks make no progress");
    }
    let patterns = found.into_inner().unwrap();
    (ledger, patterns, runs)
}

/// On random networks in 2-6 dimensions (PyTorch-default and He, degenerate and leaky
/// variants), L2 and L-inf balls and boxes: the merged tasks find exactly the regions of
/// the single process, each once, whatever the budget (down to zero: one neuron per
/// task), with the same distinct affine maps.
#[test]
fn tasks_merge_to_the_single_process_count() {
    let mut rng = StdRng::seed_from_u64(81);
    let (mut exact_both, mut trials) = (0, 0);
    for trial in 0..36 {
        let init = if trial % 2 == 0 {
            Init::PytorchDefault
        } else {
            Init::He
        };
        let mut net = random_small_architecture(&mut rng, init);
        if trial % 4 == 1 {
            net = degenerate_variant(&net, &mut rng);
        }
        if trial % 6 == 5 {
            net = leaky_variant(&net, &mut rng);
        }
        let domain = trial_domain(&net, trial, &mut rng);
        let affine_maps = trial % 5 == 0;
        let options = EnumerationOptions {
            parallel: false,
            affine_maps,
            ..EnumerationOptions::default()
        };
        let single_patterns = Mutex::new(Vec::new());
        let sink = |r: RegionRecord| {
            single_patterns
                .lock()
                .unwrap()
                .push(r.pattern.iter().collect::<Vec<bool>>())
        };
        let single = enumerate_regions(&net, &domain, options, Some(&sink), None).unwrap();
        let root = CountTask::root(&net, &domain, None, affine_maps).unwrap();
        // A zero budget runs one neuron per task: a task per node of the tree.
        let budget = if trial % 3 == 0 && single.nodes < 20_000 {
            Duration::ZERO
        } else {
            Duration::from_micros(300)
        };
        // Every third trial explores each task with rayon's threads, as the CLI does.
        let (ledger, patterns, runs) =
            run_as_tasks(&net, &root, 1 + trial % 7, budget, trial % 3 == 2);
        let merged = ledger.enumeration(Duration::ZERO);
        assert!(merged.complete, "trial {trial}: tasks left open");
        assert_eq!(ledger.open().len(), 0);
        // Each region once.
        let distinct: HashSet<&Vec<bool>> = patterns.iter().collect();
        assert_eq!(
            distinct.len(),
            patterns.len(),
            "trial {trial}: a region found twice"
        );
        assert_eq!(patterns.len() as u64, merged.regions, "trial {trial}");
        trials += 1;
        if single.is_exact() && merged.is_exact() {
            exact_both += 1;
            assert_eq!(
                merged.regions, single.regions,
                "trial {trial} ({runs} tasks)"
            );
            let single_set: HashSet<Vec<bool>> =
                single_patterns.into_inner().unwrap().into_iter().collect();
            let merged_set: HashSet<Vec<bool>> = patterns.into_iter().collect();
            assert_eq!(merged_set, single_set, "trial {trial}");
            assert_eq!(merged.affine_maps, single.affine_maps, "trial {trial}");
        } else {
            // Both intervals hold the count, so they overlap.
            let (lo, hi) = (
                single.regions,
                single.upper_bound.to_u128().unwrap_or(u128::MAX),
            );
            let (mlo, mhi) = (
                merged.regions,
                merged.upper_bound.to_u128().unwrap_or(u128::MAX),
            );
            assert!(
                u128::from(lo) <= mhi && u128::from(mlo) <= hi,
                "trial {trial}"
            );
        }
    }
    assert!(
        exact_both * 10 >= trials * 9,
        "{exact_both} of {trials} exact"
    );
}

/// While tasks are open, the ledger's interval holds the count: found regions below, the
/// open tasks' bounds above.
#[test]
fn open_tasks_give_an_interval_that_holds_the_count() {
    let mut rng = StdRng::seed_from_u64(82);
    for trial in 0..12 {
        let net = random_small_architecture(&mut rng, Init::He);
        let domain = trial_domain(&net, trial, &mut rng);
        let options = EnumerationOptions {
            parallel: false,
            ..EnumerationOptions::default()
        };
        let single = enumerate_regions(&net, &domain, options, None, None).unwrap();
        if !single.is_exact() {
            continue;
        }
        let root = CountTask::root(&net, &domain, None, false).unwrap();
        let (mut ledger, _) = split_count(&net, &root, 6, false, None).unwrap();
        let mut queue: VecDeque<CountTask> = ledger.open().cloned().collect();
        while let Some(task) = queue.pop_front() {
            let partial = ledger.enumeration(Duration::ZERO);
            assert!(partial.regions <= single.regions, "trial {trial}");
            let upper = partial.upper_bound.to_u128().unwrap_or(u128::MAX);
            assert!(upper >= u128::from(single.regions), "trial {trial}");
            let run = TaskRun {
                budget: Some(Duration::ZERO),
                ..TaskRun::default()
            };
            let outcome = run_count_task(&net, &task, run, None).unwrap();
            queue.extend(ledger.merge(outcome).unwrap());
        }
        assert_eq!(ledger.enumeration(Duration::ZERO).regions, single.regions);
    }
}

/// Wrong inputs are refused with the task and field at fault, and change nothing: an
/// outcome merged twice, another network, a tampered node, another format.
#[test]
fn tasks_and_outcomes_are_checked() {
    let mut rng = StdRng::seed_from_u64(83);
    let net = random_small_architecture(&mut rng, Init::He);
    // The same shape of input, other weights.
    let other = degenerate_variant(&net, &mut rng);
    let domain = Domain::ball(vec![0.1; net.input_dim()], 0.5, Norm::L2).unwrap();
    let root = CountTask::root(&net, &domain, None, false).unwrap();
    let (mut ledger, outcomes) = split_count(&net, &root, 3, false, None).unwrap();
    let first = outcomes.first().expect("the root was split");
    let before = ledger.enumeration(Duration::ZERO).regions;
    assert!(matches!(
        ledger.merge(first.clone()),
        Err(TaskError::NotOpen(id)) if id == first.task
    ));
    assert_eq!(ledger.enumeration(Duration::ZERO).regions, before);
    assert!(matches!(
        run_count_task(&other, &root, TaskRun::default(), None),
        Err(TaskError::NetworkMismatch { .. })
    ));
    let open: Vec<CountTask> = ledger
        .open()
        .filter(|t| t.node.is_some())
        .cloned()
        .collect();
    assert!(open.len() >= 2, "the split left {} nodes open", open.len());
    // An outcome of another task under an open id (a task file rewritten by a rerun of
    // its parent) is stale: refused, and the task stays open.
    let mut impostor = open[1].clone();
    impostor.id = open[0].id.clone();
    let stale = run_count_task(&net, &impostor, TaskRun::default(), None).unwrap();
    assert!(matches!(ledger.merge(stale), Err(TaskError::NotOpen(_))));
    assert!(ledger.is_open(&open[0].id));
    // Children that are not one level below their task, or twice the same, are refused.
    let outcome = run_count_task(
        &net,
        &open[0],
        TaskRun {
            emit_depth: Some(1),
            ..TaskRun::default()
        },
        None,
    )
    .unwrap();
    if let Some(child) = outcome.unfinished.first().cloned() {
        let mut twice = outcome.clone();
        twice.unfinished.push(child.clone());
        assert!(matches!(
            ledger.merge(twice),
            Err(TaskError::OtherCount { .. })
        ));
        let mut deep = outcome.clone();
        deep.unfinished[0].id = format!("{}.0.1", open[0].id);
        assert!(matches!(
            ledger.merge(deep),
            Err(TaskError::OtherCount { .. })
        ));
    }
    assert!(ledger.merge(outcome).is_ok());
    let open = open[1].clone();
    let mut bad = open.clone();
    bad.node.as_mut().unwrap().bits.push('1');
    let e = run_count_task(&net, &bad, TaskRun::default(), None).unwrap_err();
    assert!(
        matches!(&e, TaskError::Invalid { task, message } if *task == open.id && message.contains("decided neurons")),
        "{e}"
    );
    let mut bad = open.clone();
    bad.node.as_mut().unwrap().bits = bad.node.as_ref().unwrap().bits.replace('1', "x");
    if bad.node.as_ref().unwrap().bits.contains('x') {
        let e = run_count_task(&net, &bad, TaskRun::default(), None).unwrap_err();
        assert!(e.to_string().contains("bits must be 0 or 1"), "{e}");
    }
    let mut bad = open.clone();
    let dim = open.node.as_ref().unwrap().witnesses[0].len();
    bad.node.as_mut().unwrap().witnesses = vec![vec![f64::NAN; dim]];
    let e = run_count_task(&net, &bad, TaskRun::default(), None).unwrap_err();
    assert!(e.to_string().contains("witnesses"), "{e}");
    let json = open.to_json().replace("\"format\":1", "\"format\":7");
    assert!(matches!(
        CountTask::from_json(&json),
        Err(TaskError::Format { found: 7 })
    ));
    assert!(matches!(
        CountTask::from_json("{\"format\": 1"),
        Err(TaskError::Json(_))
    ));
    // A node that is not open (a grandchild's id) is refused.
    let mut outcome = run_count_task(&net, &open, TaskRun::default(), None).unwrap();
    outcome.task = format!("{}.9.9", open.id);
    assert!(matches!(ledger.merge(outcome), Err(TaskError::NotOpen(_))));
}
