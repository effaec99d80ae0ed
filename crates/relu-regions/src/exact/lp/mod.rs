//! The optimisations the region tree needs, over a polyhedron `{a_k . x <= b_k}`
//! intersected with the domain (a box, as polyhedral rows, or an L2 ball, as a
//! second-order cone, handled exactly):
//!
//! - [`chebyshev_center`]: the largest inscribed L2 ball (decides whether a side of a
//!   hyperplane has interior, and gives a deep interior point);
//! - [`maximize`]: a linear objective (the node bounding boxes).
//!
//! Each has a fast path for the tree's programs (`chebyshev_center_fast`,
//! `bounding_box_fast`: the dense active-set method of `simplex.rs`, started from a feasible
//! point, exact on polyhedral domains, with cutting planes for an L2 ball) and the
//! interior-point solver clarabel (`conic.rs`) as the fallback and the tests' reference;
//! clarabel's optima are accurate to about `1e-8` relative and carry no certificate, so an
//! empty side from clarabel must clear `1e-7` of the domain's size (`docs/math.md`
//! §5.2). Every program takes the
//! enumeration's deadline and stops there (`Interrupted`).

pub(crate) mod ball_dual;
pub(crate) mod bounded;
pub(crate) mod conic;
pub(crate) mod simplex;

pub(crate) use simplex::Halting;

use std::time::Instant;

use clarabel::solver::SolverStatus;

use crate::domain::{Domain, Norm};
use crate::geometry::HalfSpaces;
use crate::linalg::dot;
use conic::ConicProgram;

/// An optimum of the high-dimensional side programs ([`bounded::maximize_over_box`],
/// [`ball_dual::maximize_over_ball`]): a point, and an upper bound proven by weak
/// duality from the rows' multipliers, valid whatever the accuracy of the iterations.
#[derive(Debug, Clone)]
pub(crate) struct DualOptimum {
    /// The optimal point (a box's vertex: in the box, on the rows to about `1e-9`; a
    /// ball's: on the sphere, on the rows up to the dual's residual).
    pub x: Vec<f64>,
    /// `c.x` at `x`.
    pub value: f64,
    /// A proven upper bound on the maximum.
    pub bound: f64,
    /// The rows' multipliers `lambda_k >= 0` behind `bound`.
    pub multipliers: Vec<f64>,
    /// Whether the iterations met their optimality test (else `bound` is valid but may be
    /// loose, and `x` is not worth a witness).
    pub converged: bool,
}

/// `w = c - A^T lambda` over the rows `A`, with `sum |terms|` per coordinate (for the
/// rounding-error bounds of the certified values).
pub(crate) fn dual_residual(c: &[f64], rows: &HalfSpaces, lambda: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut w = c.to_vec();
    let mut magnitude: Vec<f64> = c.iter().map(|v| v.abs()).collect();
    for (k, &l) in lambda.iter().enumerate() {
        if l == 0.0 {
            continue;
        }
        for ((wj, mj), a) in w.iter_mut().zip(&mut magnitude).zip(rows.row(k)) {
            *wj -= l * a;
            *mj += (l * a).abs();
        }
    }
    (w, magnitude)
}

/// The outcome of [`maximize`].
#[derive(Debug, Clone, PartialEq)]
pub enum LpOutcome {
    /// The maximum.
    Optimal(f64),
    /// The feasible set is empty.
    Infeasible,
    /// The deadline passed before the solver finished.
    Interrupted,
    Failed(String),
}

/// `max e.x` over `{a_k . x <= b_k} ∩ domain`, by clarabel; past `deadline`
/// [`LpOutcome::Interrupted`].
pub fn maximize(
    e: &[f64],
    rows: &HalfSpaces,
    domain: &Domain,
    deadline: Option<Instant>,
) -> LpOutcome {
    let mut program = ConicProgram::new(e.len(), false);
    let Some(cones) = program.constraints(rows, domain) else {
        return LpOutcome::Infeasible;
    };
    let q: Vec<f64> = e.iter().map(|v| -v).collect();
    match program.solve(&q, &cones, deadline) {
        Err(e) => LpOutcome::Failed(e),
        Ok((SolverStatus::MaxTime, _)) => LpOutcome::Interrupted,
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
    /// The deadline passed before the solver finished.
    Interrupted,
    Failed(String),
}

/// The Chebyshev centre of `{a_k . x <= b_k} ∩ domain`: `max t` subject to
/// `a_k . x + t ||a_k||_2 <= b_k` and `B(x, t) ⊆ domain` (for a box, `lo_j + t <= x_j <=
/// hi_j - t`; for an L2 ball, `||x - c|| + t <= r`, a second-order cone). Rows are
/// normalised to unit norm for conditioning. `t` is capped at the domain's size. Solved by
/// clarabel; past `deadline` [`ChebyshevOutcome::Interrupted`].
pub fn chebyshev_center(
    rows: &HalfSpaces,
    domain: &Domain,
    deadline: Option<Instant>,
) -> ChebyshevOutcome {
    let d = domain.dim();
    let mut program = ConicProgram::new(d, true);
    let Some(cones) = program.constraints(rows, domain) else {
        return ChebyshevOutcome::Infeasible;
    };
    let mut q = vec![0.0; d + 1];
    q[d] = -1.0;
    match program.solve(&q, &cones, deadline) {
        Err(e) => ChebyshevOutcome::Failed(e),
        Ok((SolverStatus::MaxTime, _)) => ChebyshevOutcome::Interrupted,
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

/// The cap on the Chebyshev radius that keeps its program bounded: the box's largest
/// side or the ball's radius (at least the smallest positive number).
pub(crate) fn radius_cap(domain: &Domain) -> f64 {
    match domain {
        Domain::Box(bx) => bx
            .lo
            .iter()
            .zip(&bx.hi)
            .fold(0.0_f64, |m, (l, h)| m.max(h - l)),
        Domain::Ball(ball) => ball.radius,
    }
    .max(f64::MIN_POSITIVE)
}

/// The domain's inradius at `x`: the largest `t` with `B(x, t)` inside it (negative
/// outside).
pub(crate) fn domain_inradius(domain: &Domain, x: &[f64]) -> f64 {
    match domain {
        Domain::Box(bx) => x
            .iter()
            .zip(bx.lo.iter().zip(&bx.hi))
            .fold(f64::INFINITY, |m, (v, (l, h))| m.min(v - l).min(h - v)),
        Domain::Ball(ball) if ball.norm == Norm::LInf => {
            x.iter().zip(&ball.center).fold(f64::INFINITY, |m, (v, c)| {
                m.min(ball.radius - (v - c).abs())
            })
        }
        Domain::Ball(ball) => {
            ball.radius
                - x.iter()
                    .zip(&ball.center)
                    .map(|(v, c)| (v - c) * (v - c))
                    .sum::<f64>()
                    .sqrt()
        }
    }
}

/// The program's rows: `rows` (normalised to unit norm) and `extra` (normalised here),
/// each with the extra coefficient `t_coef` (1 for the Chebyshev radius, none without).
/// `None` when a zero row has a negative right-hand side (the set is empty).
fn program_rows(
    rows: &HalfSpaces,
    extra: Option<(&[f64], f64)>,
    t_coef: Option<f64>,
) -> Option<HalfSpaces> {
    let d = rows.dim();
    let n = d + usize::from(t_coef.is_some());
    let mut out = HalfSpaces::with_capacity(n, rows.len() + 4 * d + 4);
    let mut a = vec![0.0; n];
    if let Some(t) = t_coef {
        a[d] = t;
    }
    for k in 0..rows.len() {
        a[..d].copy_from_slice(rows.row(k));
        out.push(&a, rows.rhs(k));
    }
    if let Some((row, rhs)) = extra {
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            if rhs < 0.0 {
                return None;
            }
        } else {
            for (o, v) in a.iter_mut().zip(row) {
                *o = v / norm;
            }
            out.push(&a, rhs / norm);
        }
    }
    Some(out)
}

/// The domain's polyhedral rows (a box, an L-inf ball) or, for an L2 ball, the `2d`
/// faces of its bounding cube (valid cuts `+-(x_j - c_j) + t <= r`), with the radius
/// coefficient `t_coef`; returns that box.
fn push_domain_rows(
    out: &mut HalfSpaces,
    domain: &Domain,
    t_coef: Option<f64>,
) -> (Vec<f64>, Vec<f64>) {
    let d = domain.dim();
    let (lo, hi): (Vec<f64>, Vec<f64>) = match domain {
        Domain::Box(bx) => (bx.lo.clone(), bx.hi.clone()),
        Domain::Ball(ball) => (
            ball.center.iter().map(|c| c - ball.radius).collect(),
            ball.center.iter().map(|c| c + ball.radius).collect(),
        ),
    };
    let mut e = vec![0.0; out.dim()];
    if let Some(t) = t_coef {
        e[d] = t;
    }
    for j in 0..d {
        e[j] = 1.0;
        out.push(&e, hi[j]);
        e[j] = -1.0;
        out.push(&e, -lo[j]);
        e[j] = 0.0;
    }
    (lo, hi)
}

/// The cut `u . x + t_coef t <= r + u . c`, `u = (x - c) / ||x - c||`, valid for the L2
/// ball (`u . (x - c) <= ||x - c||`) and violated at a point `x` outside it (by the
/// radius, with `t`). `None` at the centre.
fn ball_cut(ball: &crate::domain::Ball, x: &[f64], n: usize) -> Option<(Vec<f64>, f64)> {
    let diff: Vec<f64> = x.iter().zip(&ball.center).map(|(v, c)| v - c).collect();
    let norm = diff.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm == 0.0 {
        return None;
    }
    let mut a = vec![0.0; n];
    for (o, v) in a.iter_mut().zip(&diff) {
        *o = v / norm;
    }
    if n > x.len() {
        a[x.len()] = 1.0;
    }
    let rhs = ball.radius + dot(&a[..x.len()], &ball.center);
    Some((a, rhs))
}

/// The optimal radius `value` of a Chebyshev program of [`chebyshev_center_fast`] and
/// what it rests on: the active rows at the optimum (nonnegative multipliers) include,
/// of the polyhedron's rows `rows`, only rows among the first `rows_used`. So `value` is
/// an upper bound (up to the solver's rounding, about `1e-11` of the domain's size) on
/// the Chebyshev radius inside the domain of any polyhedron cut out by rows that include
/// those first `rows_used` rows and the same extra row: `t <= value` follows from the
/// active rows alone (a nonnegative combination of them is the objective), and the other
/// active rows (the extra row, the domain's rows, the radius cap, an L2 ball's tangent
/// cuts) hold for such a polyhedron too.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RadiusBound {
    pub value: f64,
    pub rows_used: usize,
    /// The sum of the multipliers behind `value` (about 1: every row of a Chebyshev
    /// program has radius coefficient 1). Moving each row by at most `delta` moves the
    /// bound by at most `weight * delta`.
    pub weight: f64,
}

/// A proven upper bound on `max t` over the Chebyshev `program` (rows in `(x, t)`, the
/// domain's bounding box among them, so `x` lies in `[lo, hi]`), from the multipliers
/// `lambda_i >= 0` of its rows `active[i]`, whatever their accuracy (weak duality): with
/// the residual `w = e_t - sum lambda_k a_k`, every feasible point has
/// `t = sum lambda_k a_k . (x, t) + w . (x, t) <= sum lambda_k b_k + w_x . x + w_t t`, so
///
/// ```text
/// t (1 - w_t) <= sum lambda_k b_k + sum_j max(w_j lo_j, w_j hi_j),
/// ```
///
/// each sum widened by its rounding bound (`dual_residual`'s magnitudes). With the sum of
/// the multipliers; `None` when `1 - w_t` is not clearly positive.
fn chebyshev_bound(
    program: &HalfSpaces,
    active: &[usize],
    multipliers: &[f64],
    lo: &[f64],
    hi: &[f64],
) -> Option<(f64, f64)> {
    let d = lo.len();
    let mut lambda = vec![0.0; program.len()];
    for (&k, &l) in active.iter().zip(multipliers) {
        lambda[k] = l.max(0.0);
    }
    let mut objective = vec![0.0; d + 1];
    objective[d] = 1.0;
    let (w, magnitude) = dual_residual(&objective, program, &lambda);
    let terms = program.len() + d + 2;
    let gamma = crate::stability::rounding_margin(terms, 1.0);
    let top = weak_duality_sum(program, &lambda, (&w, &magnitude), (lo, hi), terms);
    let (denominator_lo, denominator_hi) = (
        1.0 - w[d] - gamma * magnitude[d],
        1.0 - w[d] + gamma * magnitude[d],
    );
    if denominator_lo <= 0.5 || !top.is_finite() {
        return None;
    }
    let bound = if top >= 0.0 {
        top / denominator_lo
    } else {
        top / denominator_hi
    };
    // The division's own rounding.
    let bound = bound + 4.0 * f64::EPSILON * bound.abs();
    Some((bound, lambda.iter().sum()))
}

/// `sum lambda_k b_k + sum_j max(w_j lo_j, w_j hi_j)` over the first `lo.len()`
/// coordinates, rounded up: each product's part of the residual's rounding
/// (`magnitude_j` times `|x_j|`) and the sums' own rounding (`terms` terms) added. The
/// weak-duality bound of [`chebyshev_bound`] and [`linear_bound`].
fn weak_duality_sum(
    program: &HalfSpaces,
    lambda: &[f64],
    (w, magnitude): (&[f64], &[f64]),
    (lo, hi): (&[f64], &[f64]),
    terms: usize,
) -> f64 {
    let gamma = crate::stability::rounding_margin(terms, 1.0);
    let (mut top, mut top_magnitude) = (0.0, 0.0);
    for (k, &l) in lambda.iter().enumerate() {
        if l > 0.0 {
            top += l * program.rhs(k);
            top_magnitude += (l * program.rhs(k)).abs();
        }
    }
    for j in 0..lo.len() {
        let reach = lo[j].abs().max(hi[j].abs());
        top += (w[j] * lo[j]).max(w[j] * hi[j]) + gamma * magnitude[j] * reach;
        top_magnitude += w[j].abs() * reach;
    }
    top + crate::stability::rounding_margin(terms, top_magnitude)
}

/// A proven upper bound on `max e . x` over `program` (whose rows include a box
/// `[lo, hi]` around its points), from the multipliers `lambda_i >= 0` of its rows
/// `active[i]`, whatever their accuracy (weak duality, as [`chebyshev_bound`]): with
/// `w = e - sum lambda_k a_k`, every feasible point has
/// `e . x <= sum lambda_k b_k + sum_j max(w_j lo_j, w_j hi_j)`, each sum widened by its
/// rounding bound. With the sum of the multipliers of the first `weighted` rows (moving
/// each of those rows by at most `delta` moves the bound by at most that sum times
/// `delta`); `None` when the bound is not finite.
fn linear_bound(
    e: &[f64],
    program: &HalfSpaces,
    (active, multipliers): (&[usize], &[f64]),
    (lo, hi): (&[f64], &[f64]),
    weighted: usize,
) -> Option<(f64, f64)> {
    let mut lambda = vec![0.0; program.len()];
    for (&k, &l) in active.iter().zip(multipliers) {
        lambda[k] = l.max(0.0);
    }
    let (w, magnitude) = dual_residual(e, program, &lambda);
    let terms = program.len() + e.len() + 1;
    let top = weak_duality_sum(program, &lambda, (&w, &magnitude), (lo, hi), terms);
    top.is_finite()
        .then(|| (top, lambda[..weighted.min(lambda.len())].iter().sum()))
}

/// Cutting planes before the fast path gives up on an L2 ball.
const MAX_CUTS: usize = 60;

/// The largest input dimension in which the fast path solves an L2 ball's Chebyshev
/// programs; above it they go to clarabel. The ball enters the active-set method as its
/// bounding cube (`2d` rows, all active at the centre: a degenerate vertex) and tangent
/// cuts, which costs more with the dimension than clarabel's second-order cone. Measured
/// (random `[d, max(2d, 32), 32, 1]` nets, L2 radius 0.3, one thread): per region the fast
/// path takes 25, 131, 109, 294 and 473 us at d = 4, 8, 10, 12, 14 against clarabel's
/// 122, 314, 1 633, 1 852 and 2 095 us, but 1 740 against 894 us at d = 16, 83 against
/// 5.4 ms at d = 32, and 1.5 s against 25 ms at d = 64; one program of mnist-net_256x2 in
/// its 256-D row space took 34 s against 8 ms. L-inf balls and boxes stay on the fast
/// path (at d = 64: 10 against 29 ms per region; in 784-D both take about 0.7 s per
/// program).
pub(crate) const MAX_FAST_L2_DIM: usize = 15;

/// [`chebyshev_center`] by the dense active-set method ([`simplex`]), started at `hint`
/// (any point; the radius starts low enough to be feasible). Polyhedral domains are
/// solved exactly. An L2 ball is approximated from outside by cutting planes until the
/// answer is decided against `thin`: the program's optimum `t*` over the cuts bounds the
/// true radius from above, and the true inradius `rho` at the optimiser bounds it from
/// below; the loop stops when `rho > thin` (with `rho >= t* / 2` for a deep witness, or
/// after a few cuts), when `t* <= -thin`, or when `-thin < rho` and `t* <= thin`
/// (degenerate). The radius reported is `rho` when the side has interior and `t*`
/// otherwise, so the caller's tests against `+-thin` decide exactly as the true radius
/// would. `None` asks for the interior-point solver (no convergence, disagreement beyond
/// rounding on a polyhedral domain, or an L2 ball in more than [`MAX_FAST_L2_DIM`]
/// dimensions).
///
/// With the outcome comes the [`RadiusBound`] of the last program solved (none when the
/// set is empty before solving).
pub(crate) fn chebyshev_center_fast(
    rows: &HalfSpaces,
    extra: Option<(&[f64], f64)>,
    domain: &Domain,
    hint: Option<&[f64]>,
    thin: f64,
    halt: Halting,
) -> Option<(ChebyshevOutcome, Option<RadiusBound>)> {
    let d = domain.dim();
    if d > MAX_FAST_L2_DIM && matches!(domain, Domain::Ball(b) if b.norm == Norm::L2) {
        return None;
    }
    let Some(mut program) = program_rows(rows, extra, Some(1.0)) else {
        return Some((ChebyshevOutcome::Infeasible, None));
    };
    let polyhedron = program.len();
    let (lo, hi) = push_domain_rows(&mut program, domain, Some(1.0));
    let size = radius_cap(domain);
    let mut cap = vec![0.0; d + 1];
    cap[d] = 1.0;
    program.push(&cap, size);
    let mut y: Vec<f64> = hint.map_or_else(|| domain.center(), <[f64]>::to_vec);
    y.push(0.0);
    let t0 = (0..program.len())
        .map(|k| program.slack(k, &y))
        .fold(f64::INFINITY, f64::min);
    y[d] = t0;
    let mut objective = vec![0.0; d + 1];
    objective[d] = 1.0;
    let ball = match domain {
        Domain::Ball(b) if b.norm == Norm::L2 => Some(b),
        _ => None,
    };
    for cut in 0..=MAX_CUTS {
        let (opt, value, active, proven) =
            match simplex::maximize_from(&objective, &program, y, halt) {
                simplex::Solve::Optimal {
                    y,
                    value,
                    active,
                    multipliers,
                } => {
                    let bound = chebyshev_bound(&program, &active, &multipliers, &lo, &hi);
                    (y, value, active, bound)
                }
                simplex::Solve::Interrupted => return Some((ChebyshevOutcome::Interrupted, None)),
                simplex::Solve::Unbounded | simplex::Solve::Stalled => return None,
            };
        let bound = proven.map(|(proven, weight)| RadiusBound {
            value: proven,
            rows_used: active
                .iter()
                .filter(|&&k| k < rows.len())
                .max()
                .map_or(0, |&k| k + 1),
            weight,
        });
        let x = &opt[..d];
        let mut x_t = x.to_vec();
        x_t.push(0.0);
        let rho = (0..polyhedron)
            .map(|k| program.slack(k, &x_t))
            .fold(domain_inradius(domain, x), f64::min);
        let center = x.to_vec();
        let Some(ball) = ball else {
            if value - rho > 1e-9 * (size + value.abs()) {
                return None;
            }
            return Some((
                ChebyshevOutcome::Ball {
                    radius: rho,
                    center,
                },
                bound,
            ));
        };
        if rho > thin && (rho >= 0.5 * value || cut >= 8) {
            return Some((
                ChebyshevOutcome::Ball {
                    radius: rho,
                    center,
                },
                bound,
            ));
        }
        if value <= -thin || (value <= thin && rho > -thin) {
            return Some((
                ChebyshevOutcome::Ball {
                    radius: value,
                    center,
                },
                bound,
            ));
        }
        let (a, rhs) = ball_cut(ball, x, d + 1)?;
        program.push(&a, rhs);
        // Restart from the optimiser with the radius lowered onto the new cut.
        y = opt;
        y[d] = y[d].min(rhs - dot(&a[..d], &y[..d]));
    }
    None
}

/// A box `[lo, hi]` as its two corners.
type Cube = (Vec<f64>, Vec<f64>);

/// The program of [`bounding_box_fast`]: the polyhedron's rows (first) and the domain's
/// (for an L2 ball, its bounding cube `[lo, hi]`, returned), if `start` is feasible for
/// them.
fn feasible_program(
    rows: &HalfSpaces,
    domain: &Domain,
    start: &[f64],
) -> Option<(HalfSpaces, Cube)> {
    let mut program = program_rows(rows, None, None)?;
    let cube = push_domain_rows(&mut program, domain, None);
    let scale = start.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    let feasible = (0..program.len()).all(|k| program.slack(k, start) >= -1e-9 * scale)
        && domain_inradius(domain, start) >= -1e-9 * scale;
    feasible.then_some((program, cube))
}

/// `max e.x` over `program` from `y` (left at the optimum). For an L2 ball, while the
/// optimiser lies outside it by more than `1e-3 r`, the tangent plane there is added as a
/// cut (valid for the ball) and the run restarts on the segment from `start` (inside every
/// cut) to the optimiser, at most 8 times. Returns the proven upper bound on the last
/// program's maximum ([`linear_bound`], with the multipliers' sum over the polyhedron's
/// `node_rows` first rows), which bounds the true maximum (every cut holds on the ball).
/// `None` when a run does not end optimal.
fn maximize_with_cuts(
    e: &[f64],
    program: &mut HalfSpaces,
    (domain, cube): (&Domain, (&[f64], &[f64])),
    node_rows: usize,
    start: &[f64],
    y: &mut Vec<f64>,
    halt: Halting,
) -> Option<(f64, f64)> {
    let ball = match domain {
        Domain::Ball(b) if b.norm == Norm::L2 => Some(b),
        _ => None,
    };
    let mut proven = None;
    for _ in 0..=8 {
        let simplex::Solve::Optimal {
            y: opt,
            value,
            active,
            multipliers,
        } = simplex::maximize_from(e, program, y.clone(), halt)
        else {
            return None;
        };
        proven = linear_bound(e, program, (&active, &multipliers), cube, node_rows)
            .map(|(bound, weight)| (bound.max(value), weight));
        proven?;
        let Some(ball) = ball.filter(|b| domain_inradius(domain, &opt) < -1e-3 * b.radius) else {
            *y = opt;
            return proven;
        };
        let (a, rhs) = ball_cut(ball, &opt, start.len())?;
        let s0 = rhs - dot(&a, start);
        let s1 = rhs - dot(&a, &opt);
        let theta = if s1 < 0.0 { s0 / (s0 - s1) } else { 1.0 };
        *y = start
            .iter()
            .zip(&opt)
            .map(|(s, o)| s + theta * (o - s))
            .collect();
        program.push(&a, rhs);
    }
    // Still outside the ball after the cuts: the last program's bound holds for the ball.
    proven
}

/// A proven box around `rows ∩ domain` (`max +-x_j`, each bounded by weak duality) by `2d`
/// runs of [`maximize_with_cuts`] on one program, each from `start`; cuts are shared.
/// With the largest sum of the multipliers of `rows` behind a bound: moving every row by
/// at most `delta` moves each bound by at most that times `delta`. `None` asks for the
/// interior-point solver, or, when `halt` says so, means the runs were interrupted.
pub(crate) fn bounding_box_fast(
    rows: &HalfSpaces,
    domain: &Domain,
    start: &[f64],
    halt: Halting,
) -> Option<(Vec<f64>, Vec<f64>, f64)> {
    let d = domain.dim();
    let (mut program, (cube_lo, cube_hi)) = feasible_program(rows, domain, start)?;
    let mut weight = 0.0_f64;
    let (mut lo, mut hi) = (vec![0.0; d], vec![0.0; d]);
    let mut y = Vec::with_capacity(d);
    let mut e = vec![0.0; d];
    for j in 0..d {
        for s in [1.0, -1.0] {
            e[j] = s;
            // Each run starts from `start`, with no active row. Warm starts from the
            // previous optimum walk the polyhedron's surface from one extreme to the
            // next and drop many rows on the way: on d5 20x3 (`bench_count --large
            // --case "d5 20x3"`) they made 11.0 M pivots (3.4 M of them dropping a row),
            // these runs 10.0 M (0.8 M), and the whole count takes a fifth less time.
            y.clear();
            y.extend_from_slice(start);
            let (value, w) = maximize_with_cuts(
                &e,
                &mut program,
                (domain, (&cube_lo, &cube_hi)),
                rows.len(),
                start,
                &mut y,
                halt,
            )?;
            weight = weight.max(w);
            if s > 0.0 {
                hi[j] = value;
            } else {
                lo[j] = -value;
            }
            e[j] = 0.0;
        }
    }
    Some((lo, hi, weight))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    fn random_domain(rng: &mut StdRng, d: usize, kind: usize) -> Domain {
        let c: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
        let r = rng.random_range(0.1..2.0);
        match kind {
            0 => Domain::ball(c, r, Norm::L2).unwrap(),
            1 => Domain::ball(c, r, Norm::LInf).unwrap(),
            _ => {
                let lo = c.iter().map(|v| v - rng.random_range(0.05..1.0)).collect();
                let hi = c.iter().map(|v| v + rng.random_range(0.05..1.0)).collect();
                Domain::boxed(lo, hi).unwrap()
            }
        }
    }

    /// The true inradius of `{rows} ∩ domain` at `x`.
    fn inradius(rows: &[(Vec<f64>, f64)], domain: &Domain, x: &[f64]) -> f64 {
        rows.iter()
            .map(|(a, b)| {
                let n = a.iter().map(|v| v * v).sum::<f64>().sqrt();
                (b - a.iter().zip(x).map(|(p, q)| p * q).sum::<f64>()) / n
            })
            .fold(domain_inradius(domain, x), f64::min)
    }

    /// The fast path against clarabel on random polyhedra (many with zero-width slabs or
    /// duplicated rows), all three domains: same decisions against `+-thin`, certified
    /// witnesses, and bounding-box maxima that are never below the true maximum.
    #[test]
    fn fast_path_agrees_with_the_interior_point_solver() {
        let mut rng = StdRng::seed_from_u64(31);
        let mut decided = [0usize; 3];
        let mut certified = 0;
        for trial in 0..1500 {
            let d = rng.random_range(1..=5);
            let domain = random_domain(&mut rng, d, trial % 3);
            let size = match &domain {
                Domain::Ball(b) => b.radius,
                Domain::Box(b) => {
                    b.lo.iter()
                        .zip(&b.hi)
                        .fold(0.0_f64, |m, (l, h)| m.max(0.5 * (h - l)))
                }
            };
            let thin = 1e-7 * size;
            let center = domain.center();
            let mut rows: Vec<(Vec<f64>, f64)> = Vec::new();
            for _ in 0..rng.random_range(0..12) {
                let a: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
                let at_c: f64 = a.iter().zip(&center).map(|(p, q)| p * q).sum();
                let b = at_c + rng.random_range(-0.5..1.0) * size;
                if rng.random_range(0..6) == 0 {
                    // A zero-width slab (degenerate) or a duplicate.
                    rows.push((a.iter().map(|v| -v).collect(), -b));
                    rows.push((a.iter().map(|v| 2.0 * v).collect(), 2.0 * b));
                }
                rows.push((a, b));
            }
            let hint: Vec<f64> = center.clone();
            // The last row goes in as the extra one; the others normalised, as nodes keep
            // them.
            let mut normalised = HalfSpaces::new(d);
            let (extra, body) = rows
                .split_last()
                .map_or((None, &rows[..]), |(e, b)| (Some(e), b));
            for (a, b) in body {
                let n = a.iter().map(|v| v * v).sum::<f64>().sqrt();
                let unit: Vec<f64> = a.iter().map(|v| v / n).collect();
                normalised.push(&unit, b / n);
            }
            let extra = extra.map(|(a, b)| (a.as_slice(), *b));
            let Some((fast, bound)) = chebyshev_center_fast(
                &normalised,
                extra,
                &domain,
                Some(&hint),
                thin,
                Halting::default(),
            ) else {
                continue;
            };
            let all_rows = HalfSpaces::from_pairs(d, &rows);
            let slow = chebyshev_center(&all_rows, &domain, None);
            let (rf, cf) = match &fast {
                ChebyshevOutcome::Ball { radius, center } => (*radius, center.clone()),
                other => panic!("trial {trial}: fast {other:?}"),
            };
            let rc = match slow {
                ChebyshevOutcome::Ball { radius, .. } => radius,
                ChebyshevOutcome::Infeasible => f64::NEG_INFINITY,
                other => panic!("trial {trial}: clarabel {other:?}"),
            };
            let band = 0.5 * thin;
            let class = |r: f64| {
                if r > thin {
                    2
                } else if r > -thin {
                    1
                } else {
                    0
                }
            };
            if (rc - thin).abs() > band && (rc + thin).abs() > band {
                assert_eq!(
                    class(rf),
                    class(rc),
                    "trial {trial}: fast {rf} vs clarabel {rc}"
                );
                decided[class(rc)] += 1;
            }
            // The radius bound rests on the first `rows_used` rows and the extra one: the
            // true radius of that smaller program is at most the bound.
            if let Some(bound) = bound {
                let mut used: Vec<(Vec<f64>, f64)> = body[..bound.rows_used].to_vec();
                if let Some((a, b)) = extra {
                    used.push((a.to_vec(), b));
                }
                if let ChebyshevOutcome::Ball { radius, .. } =
                    chebyshev_center(&HalfSpaces::from_pairs(d, &used), &domain, None)
                {
                    assert!(
                        radius <= bound.value + 1e-7 * size,
                        "trial {trial}: radius {radius} over the bound {}",
                        bound.value
                    );
                    certified += 1;
                }
            }
            if rf > thin {
                // A certified witness: its true inradius is at least the radius reported.
                assert!(
                    inradius(&rows, &domain, &cf) >= rf - 1e-12 * size,
                    "trial {trial}"
                );
            }
            // Bounding boxes from an interior point: every direction against clarabel.
            if rf > thin {
                let mut all = normalised.clone();
                if let Some((a, b)) = extra {
                    let n = a.iter().map(|v| v * v).sum::<f64>().sqrt();
                    let unit: Vec<f64> = a.iter().map(|v| v / n).collect();
                    all.push(&unit, b / n);
                }
                if let Some((lo, hi, _)) = bounding_box_fast(&all, &domain, &cf, Halting::default())
                {
                    for j in 0..d {
                        for s in [1.0, -1.0] {
                            let mut e = vec![0.0; d];
                            e[j] = s;
                            let slow = match maximize(&e, &all_rows, &domain, None) {
                                LpOutcome::Optimal(v) => v,
                                other => panic!("trial {trial}: {other:?}"),
                            };
                            let v = if s > 0.0 { hi[j] } else { -lo[j] };
                            assert!(v >= slow - 1e-7 * size, "trial {trial}: {v} < {slow}");
                            if !matches!(&domain, Domain::Ball(b) if b.norm == Norm::L2) {
                                assert!(v <= slow + 1e-6 * size, "trial {trial}: {v} > {slow}");
                            }
                        }
                    }
                }
            }
        }
        // Every class occurs.
        assert!(decided.iter().all(|&n| n > 20), "{decided:?}");
        assert!(certified > 500, "{certified}");
    }
}
