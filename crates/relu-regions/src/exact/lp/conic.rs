//! Conic programs for clarabel's interior-point method: the reference solver of the
//! region tree's programs (its fallback, and the oracle of the tests) and the solver of
//! the whole-space inradius ([`crate::chebyshev`]).

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};

use std::time::Instant;

use crate::domain::{Domain, Norm};
use crate::geometry::HalfSpaces;

/// A conic program `min q.v  s.t.  A v + s = b, s in cones` under construction, over
/// `v = x` (linear objective) or `v = (x, t)` (Chebyshev radius `t` as the last variable).
pub(crate) struct ConicProgram {
    d: usize,
    with_radius: bool,
    ti: Vec<usize>,
    tj: Vec<usize>,
    tv: Vec<f64>,
    b: Vec<f64>,
}

impl ConicProgram {
    pub(crate) fn new(d: usize, with_radius: bool) -> Self {
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
    pub(crate) fn row(&mut self, coef: &[f64], t_coef: f64, rhs: f64) {
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
    pub(crate) fn constraints(
        &mut self,
        rows: &HalfSpaces,
        domain: &Domain,
    ) -> Option<Vec<SupportedConeT<f64>>> {
        for (a, rhs) in rows.iter() {
            if self.with_radius {
                let norm = a.iter().map(|v| v * v).sum::<f64>().sqrt();
                if norm == 0.0 {
                    if rhs < 0.0 {
                        return None;
                    }
                    continue;
                }
                let unit: Vec<f64> = a.iter().map(|v| v / norm).collect();
                self.row(&unit, 1.0, rhs / norm);
            } else {
                self.row(a, 0.0, rhs);
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
            // t <= size keeps the program bounded.
            self.row(&vec![0.0; self.d], 1.0, super::radius_cap(domain));
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

    /// Solves `min q.v`; returns the status and the solution. Past `deadline` clarabel
    /// stops with [`SolverStatus::MaxTime`] (at once when it has passed already).
    pub(crate) fn solve(
        self,
        q: &[f64],
        cones: &[SupportedConeT<f64>],
        deadline: Option<Instant>,
    ) -> Result<(SolverStatus, Vec<f64>), String> {
        let time_limit = match deadline {
            None => f64::INFINITY,
            Some(t) => {
                let left = t.saturating_duration_since(Instant::now()).as_secs_f64();
                if left == 0.0 {
                    return Ok((SolverStatus::MaxTime, Vec::new()));
                }
                left
            }
        };
        let n = q.len();
        let a = CscMatrix::new_from_triplets(self.b.len(), n, self.ti, self.tj, self.tv);
        let p = CscMatrix::zeros((n, n));
        let settings = DefaultSettingsBuilder::default()
            .verbose(false)
            .time_limit(time_limit)
            .build()
            .expect("valid settings");
        let mut solver =
            DefaultSolver::new(&p, q, &a, &self.b, cones, settings).map_err(|e| e.to_string())?;
        solver.solve();
        Ok((solver.solution.status, solver.solution.x.clone()))
    }

    /// The nonnegative cone of every row added so far (rows `A v <= b`), for a program with
    /// no other cone.
    pub(crate) fn nonnegative_cone(&self) -> Vec<SupportedConeT<f64>> {
        vec![SupportedConeT::NonnegativeConeT(self.b.len())]
    }
}
