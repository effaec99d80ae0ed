//! The optimisations the region tree needs, over a polyhedron `{a_k . x <= b_k}`
//! intersected with the domain (a box, as polyhedral rows, or an L2 ball, as a
//! second-order cone, handled exactly):
//!
//! - [`chebyshev_center`]: the largest inscribed L2 ball (decides whether a side of a
//!   hyperplane has interior, and gives a deep interior point);
//! - [`maximize`]: a linear objective (the node bounding boxes).
//!
//! Both are solved by clarabel's interior-point method; optima are accurate to about
//! `1e-8` relative, which sets the tolerance of the enumeration
//! ([`super::EnumerationOptions::tolerance`]).

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};

use crate::domain::{Domain, Norm};

/// A conic program `min q.v  s.t.  A v + s = b, s in cones` under construction, over
/// `v = x` (linear objective) or `v = (x, t)` (Chebyshev radius `t` as the last variable).
struct Program {
    d: usize,
    with_radius: bool,
    ti: Vec<usize>,
    tj: Vec<usize>,
    tv: Vec<f64>,
    b: Vec<f64>,
}

impl Program {
    fn new(d: usize, with_radius: bool) -> Self {
        Self {
            d,
            with_radius,
            ti: Vec::new(),
            tj: Vec::new(),
            tv: Vec::new(),
            b: Vec::new(),
        }
    }

    /// The row `coef . x + t_coef t <= rhs` (`t_coef` ignored without a radius).
    fn row(&mut self, coef: &[f64], t_coef: f64, rhs: f64) {
        let r = self.b.len();
        for (j, &v) in coef.iter().enumerate() {
            if v != 0.0 {
                self.ti.push(r);
                self.tj.push(j);
                self.tv.push(v);
            }
        }
        if self.with_radius && t_coef != 0.0 {
            self.ti.push(r);
            self.tj.push(self.d);
            self.tv.push(t_coef);
        }
        self.b.push(rhs);
    }

    /// The polyhedron's rows (normalised to unit norm when a radius is fitted, so that
    /// `t` is a Euclidean distance), the domain, and the cap `t <= size`. Returns the
    /// cones, or `None` when a zero row has a negative right-hand side (the set is empty).
    fn constraints(
        &mut self,
        rows: &[(Vec<f64>, f64)],
        domain: &Domain,
    ) -> Option<Vec<SupportedConeT<f64>>> {
        for (a, rhs) in rows {
            if self.with_radius {
                let norm = a.iter().map(|v| v * v).sum::<f64>().sqrt();
                if norm == 0.0 {
                    if *rhs < 0.0 {
                        return None;
                    }
                    continue;
                }
                let unit: Vec<f64> = a.iter().map(|v| v / norm).collect();
                self.row(&unit, 1.0, rhs / norm);
            } else {
                self.row(a, 0.0, *rhs);
            }
        }
        let (lo, hi): (Vec<f64>, Vec<f64>) = match domain {
            Domain::Box(bx) => (bx.lo.clone(), bx.hi.clone()),
            Domain::Ball(ball) if ball.norm == Norm::LInf => (
                ball.center.iter().map(|c| c - ball.radius).collect(),
                ball.center.iter().map(|c| c + ball.radius).collect(),
            ),
            Domain::Ball(_) => (Vec::new(), Vec::new()),
        };
        let mut e = vec![0.0; self.d];
        for j in 0..lo.len() {
            e[j] = 1.0;
            self.row(&e, 1.0, hi[j]);
            e[j] = -1.0;
            self.row(&e, 1.0, -lo[j]);
            e[j] = 0.0;
        }
        if self.with_radius {
            let size = match domain {
                Domain::Box(bx) => bx
                    .lo
                    .iter()
                    .zip(&bx.hi)
                    .fold(0.0_f64, |m, (l, h)| m.max(h - l)),
                Domain::Ball(ball) => ball.radius,
            };
            // t <= size keeps the program bounded.
            self.row(&vec![0.0; self.d], 1.0, size.max(f64::MIN_POSITIVE));
        }
        let mut cones = Vec::new();
        if !self.b.is_empty() {
            cones.push(SupportedConeT::NonnegativeConeT(self.b.len()));
        }
        if let Domain::Ball(ball) = domain
            && ball.norm == Norm::L2
        {
            // (r - t, x - c) in the second-order cone: s_0 = r - t, s_j = x_j - c_j with
            // s = b - A v, so A = (0.., 1) and b = r for the first entry, A = -I, b = -c.
            let r = self.b.len();
            if self.with_radius {
                self.ti.push(r);
                self.tj.push(self.d);
                self.tv.push(1.0);
            }
            self.b.push(ball.radius);
            for j in 0..self.d {
                self.ti.push(self.b.len());
                self.tj.push(j);
                self.tv.push(-1.0);
                self.b.push(-ball.center[j]);
            }
            cones.push(SupportedConeT::SecondOrderConeT(self.d + 1));
        }
        Some(cones)
    }

    /// Solves `min q.v`; returns the status and the solution.
    fn solve(
        self,
        q: &[f64],
        cones: &[SupportedConeT<f64>],
    ) -> Result<(SolverStatus, Vec<f64>), String> {
        let n = q.len();
        let a = CscMatrix::new_from_triplets(self.b.len(), n, self.ti, self.tj, self.tv);
        let p = CscMatrix::zeros((n, n));
        let settings = DefaultSettingsBuilder::default()
            .verbose(false)
            .build()
            .expect("valid settings");
        let mut solver =
            DefaultSolver::new(&p, q, &a, &self.b, cones, settings).map_err(|e| e.to_string())?;
        solver.solve();
        Ok((solver.solution.status, solver.solution.x.clone()))
    }
}

/// The outcome of [`maximize`].
#[derive(Debug, Clone, PartialEq)]
pub enum LpOutcome {
    /// The maximum.
    Optimal(f64),
    /// The feasible set is empty.
    Infeasible,
    Failed(String),
}

/// `max e.x` over `{a_k . x <= b_k} ∩ domain`.
pub fn maximize(e: &[f64], rows: &[(Vec<f64>, f64)], domain: &Domain) -> LpOutcome {
    let mut program = Program::new(e.len(), false);
    let Some(cones) = program.constraints(rows, domain) else {
        return LpOutcome::Infeasible;
    };
    let q: Vec<f64> = e.iter().map(|v| -v).collect();
    match program.solve(&q, &cones) {
        Err(e) => LpOutcome::Failed(e),
        Ok((SolverStatus::Solved | SolverStatus::AlmostSolved, x)) => {
            LpOutcome::Optimal(e.iter().zip(&x).map(|(a, b)| a * b).sum())
        }
        Ok((SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible, _)) => {
            LpOutcome::Infeasible
        }
        Ok((other, _)) => LpOutcome::Failed(format!("{other:?}")),
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
    let mut program = Program::new(d, true);
    let Some(cones) = program.constraints(rows, domain) else {
        return ChebyshevOutcome::Infeasible;
    };
    let mut q = vec![0.0; d + 1];
    q[d] = -1.0;
    match program.solve(&q, &cones) {
        Err(e) => ChebyshevOutcome::Failed(e),
        Ok((SolverStatus::Solved | SolverStatus::AlmostSolved, x)) => ChebyshevOutcome::Ball {
            radius: x[d],
            center: x[..d].to_vec(),
        },
        Ok((SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible, _)) => {
            ChebyshevOutcome::Infeasible
        }
        Ok((other, _)) => ChebyshevOutcome::Failed(format!("{other:?}")),
    }
}
