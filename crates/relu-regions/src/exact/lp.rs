//! The one optimisation the region tree needs: the Chebyshev centre (largest inscribed
//! L2 ball) of a polyhedron intersected with the domain, a box (polyhedral rows) or an L2
//! ball (a second-order cone, handled exactly). Solved by clarabel's interior-point
//! method; its optimum is accurate to about `1e-8` relative, which sets the tolerance of
//! the enumeration ([`super::EnumerationOptions::tolerance`]).

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};

use crate::domain::{Domain, Norm};

/// The outcome of [`maximize`].
#[derive(Debug, Clone, PartialEq)]
pub enum LpOutcome {
    /// The maximum.
    Optimal(f64),
    /// The feasible set is empty.
    Infeasible,
    Failed(String),
}

/// `max e.x` over `{a_k . x <= b_k} ∩ domain` (the node bounding boxes of the region tree).
pub fn maximize(e: &[f64], rows: &[(Vec<f64>, f64)], domain: &Domain) -> LpOutcome {
    let d = e.len();
    let mut ti = Vec::new();
    let mut tj = Vec::new();
    let mut tv = Vec::new();
    let mut b = Vec::new();
    for (a, rhs) in rows {
        let r = b.len();
        for (j, &v) in a.iter().enumerate() {
            if v != 0.0 {
                ti.push(r);
                tj.push(j);
                tv.push(v);
            }
        }
        b.push(*rhs);
    }
    let (lo, hi): (Vec<f64>, Vec<f64>) = match domain {
        Domain::Box(bx) => (bx.lo.clone(), bx.hi.clone()),
        Domain::Ball(ball) if ball.norm == Norm::LInf => (
            ball.center.iter().map(|c| c - ball.radius).collect(),
            ball.center.iter().map(|c| c + ball.radius).collect(),
        ),
        Domain::Ball(_) => (Vec::new(), Vec::new()),
    };
    for j in 0..lo.len() {
        for (sign, rhs) in [(1.0, hi[j]), (-1.0, -lo[j])] {
            ti.push(b.len());
            tj.push(j);
            tv.push(sign);
            b.push(rhs);
        }
    }
    let linear = b.len();
    let mut cones = Vec::new();
    if linear > 0 {
        cones.push(SupportedConeT::NonnegativeConeT(linear));
    }
    if let Domain::Ball(ball) = domain
        && ball.norm == Norm::L2
    {
        b.push(ball.radius);
        for j in 0..d {
            ti.push(b.len());
            tj.push(j);
            tv.push(-1.0);
            b.push(-ball.center[j]);
        }
        cones.push(SupportedConeT::SecondOrderConeT(d + 1));
    }
    let a = CscMatrix::new_from_triplets(b.len(), d, ti, tj, tv);
    let p = CscMatrix::zeros((d, d));
    let q: Vec<f64> = e.iter().map(|v| -v).collect();
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .build()
        .expect("valid settings");
    let mut solver = match DefaultSolver::new(&p, &q, &a, &b, &cones, settings) {
        Ok(s) => s,
        Err(err) => return LpOutcome::Failed(err.to_string()),
    };
    solver.solve();
    match solver.solution.status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => {
            LpOutcome::Optimal(e.iter().zip(&solver.solution.x).map(|(a, b)| a * b).sum())
        }
        SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => {
            LpOutcome::Infeasible
        }
        other => LpOutcome::Failed(format!("{other:?}")),
    }
}

/// The outcome of [`chebyshev_center`].
#[derive(Debug, Clone, PartialEq)]
pub enum ChebyshevOutcome {
    /// The largest L2 ball inside the set: its radius and centre (radius may be <= 0 when
    /// the set has empty interior or is empty: the optimum of the program).
    Ball {
        radius: f64,
        center: Vec<f64>,
    },
    /// The program is infeasible (the set is empty, even allowing negative radii).
    Infeasible,
    Failed(String),
}

/// The Chebyshev centre of `{a_k . x <= b_k} ∩ domain`: `max t` subject to
/// `a_k . x + t ||a_k||_2 <= b_k` and `B(x, t) ⊆ domain` (for a box, `lo_j + t <= x_j <=
/// hi_j - t`; for an L2 ball, `||x - c|| + t <= r`, a second-order cone). Rows are
/// normalised to unit norm for conditioning. `t` is capped at the domain's size.
pub fn chebyshev_center(rows: &[(Vec<f64>, f64)], domain: &Domain) -> ChebyshevOutcome {
    let d = domain.dim();
    let n = d + 1;
    let mut ti = Vec::new();
    let mut tj = Vec::new();
    let mut tv = Vec::new();
    let mut b = Vec::new();
    let mut push = |coef: &[f64], t_coef: f64, rhs: f64, b: &mut Vec<f64>| {
        let r = b.len();
        for (j, &v) in coef.iter().enumerate() {
            if v != 0.0 {
                ti.push(r);
                tj.push(j);
                tv.push(v);
            }
        }
        if t_coef != 0.0 {
            ti.push(r);
            tj.push(d);
            tv.push(t_coef);
        }
        b.push(rhs);
    };
    for (a, rhs) in rows {
        let norm = a.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            if *rhs < 0.0 {
                return ChebyshevOutcome::Infeasible;
            }
            continue;
        }
        let unit: Vec<f64> = a.iter().map(|v| v / norm).collect();
        push(&unit, 1.0, rhs / norm, &mut b);
    }
    let (lo, hi, size): (Vec<f64>, Vec<f64>, f64) = match domain {
        Domain::Box(bx) => (
            bx.lo.clone(),
            bx.hi.clone(),
            bx.lo
                .iter()
                .zip(&bx.hi)
                .fold(0.0_f64, |m, (l, h)| m.max(h - l)),
        ),
        Domain::Ball(ball) if ball.norm == Norm::LInf => (
            ball.center.iter().map(|c| c - ball.radius).collect(),
            ball.center.iter().map(|c| c + ball.radius).collect(),
            ball.radius,
        ),
        Domain::Ball(ball) => (Vec::new(), Vec::new(), ball.radius),
    };
    for j in 0..lo.len() {
        let mut e = vec![0.0; d];
        e[j] = 1.0;
        push(&e, 1.0, hi[j], &mut b);
        e[j] = -1.0;
        push(&e, 1.0, -lo[j], &mut b);
    }
    // t <= size keeps the program bounded.
    push(&vec![0.0; d], 1.0, size.max(f64::MIN_POSITIVE), &mut b);
    let linear = b.len();
    let mut cones = vec![SupportedConeT::NonnegativeConeT(linear)];
    if let Domain::Ball(ball) = domain
        && ball.norm == Norm::L2
    {
        // (r - t, x - c) in the second-order cone.
        let r = b.len();
        ti.push(r);
        tj.push(d);
        tv.push(1.0);
        b.push(ball.radius);
        for j in 0..d {
            let r = b.len();
            ti.push(r);
            tj.push(j);
            tv.push(-1.0);
            b.push(-ball.center[j]);
        }
        cones.push(SupportedConeT::SecondOrderConeT(d + 1));
    }
    let m = b.len();
    let a = CscMatrix::new_from_triplets(m, n, ti, tj, tv);
    let p = CscMatrix::zeros((n, n));
    let mut q = vec![0.0; n];
    q[d] = -1.0;
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .build()
        .expect("valid settings");
    let mut solver = match DefaultSolver::new(&p, &q, &a, &b, &cones, settings) {
        Ok(s) => s,
        Err(e) => return ChebyshevOutcome::Failed(e.to_string()),
    };
    solver.solve();
    match solver.solution.status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => ChebyshevOutcome::Ball {
            radius: solver.solution.x[d],
            center: solver.solution.x[..d].to_vec(),
        },
        SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => {
            ChebyshevOutcome::Infeasible
        }
        other => ChebyshevOutcome::Failed(format!("{other:?}")),
    }
}
