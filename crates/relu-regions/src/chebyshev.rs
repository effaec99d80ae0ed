//! The inradius of an activation region: the largest ball inside it, anywhere.
//!
//! With every neuron affine on the region `R_P` (`z_k(y) = g_k . y + c_k`, see
//! [`crate::region`]) and `s_k = +1` for active, `-1` for inactive neurons,
//! `R_P = {y : s_k (g_k . y + c_k) >= 0}` up to its boundary, and the ball `B(y, rho)` (in
//! a norm with dual `||.||_*`) lies in the half-space `k` iff
//! `s_k (g_k . y + c_k) >= rho ||g_k||_*`. The Chebyshev centre solves the linear program
//!
//! `maximise rho  subject to  -s_k (g_k / ||g_k||_*) . y + rho <= s_k c_k / ||g_k||_*`
//!
//! over the neurons with `g_k != 0` (rows normalised for conditioning; constant neurons
//! impose nothing). An unbounded program means the region contains balls of every radius.
//!
//! The program is solved by clarabel's interior-point method (relative accuracy about
//! 1e-8). The reported radius is then the *exact* distance from the computed centre to
//! the region's boundary ([`crate::distance`]): a ball that provably fits, within the
//! solver's accuracy of the optimum, which is also reported.

use clarabel::solver::SolverStatus;

use crate::distance::BoundaryDistanceSolver;
use crate::domain::Norm;
use crate::error::NetworkError;
use crate::exact::lp::conic::ConicProgram;
use crate::geometry::HalfSpaces;
use crate::network::Network;
use crate::pattern::ActivationPattern;

/// The largest ball found inside an activation region.
#[derive(Debug, Clone, PartialEq)]
pub enum Inradius {
    /// A ball of radius `radius` around `center` lies in the region (exact check), and
    /// the linear program's optimum is `lp_optimum` (equal within solver accuracy).
    Ball {
        center: Vec<f64>,
        radius: f64,
        lp_optimum: f64,
    },
    /// The region contains arbitrarily large balls.
    Unbounded,
    /// The solver did not converge (the status is reported).
    Failed { status: String },
}

/// The inradius of the activation region of `pattern`, in `norm`.
pub fn inradius(
    net: &Network,
    pattern: &ActivationPattern,
    norm: Norm,
) -> Result<Inradius, NetworkError> {
    let map = net.local_affine_map_of(pattern)?;
    let d = net.input_dim();
    // The region's half-spaces `-s_k (g_k / ||g_k||_*) . y <= s_k c_k / ||g_k||_*` (rows
    // scaled by the dual norm, so that the radius `rho` enters each with coefficient 1).
    let mut region = HalfSpaces::new(d);
    let mut bit = 0;
    for (g, c) in map.gradients.iter().zip(&map.offsets) {
        for i in 0..c.len() {
            let row: Vec<f64> = g.row(i).iter().copied().collect();
            let s = if pattern.get(bit) == Some(true) {
                1.0
            } else {
                -1.0
            };
            bit += 1;
            let dual = norm.dual_of(&row);
            if dual == 0.0 {
                continue;
            }
            let a: Vec<f64> = row.iter().map(|v| -s * v / dual).collect();
            region.push(&a, s * c[i] / dual);
        }
    }
    if region.is_empty() {
        return Ok(Inradius::Unbounded);
    }
    // maximise rho over (y, rho): each half-space with rho's coefficient 1.
    let mut program = ConicProgram::new(d, true);
    for (a, b) in region.iter() {
        program.row(a, 1.0, b);
    }
    let mut q = vec![0.0; d + 1];
    q[d] = -1.0;
    let cones = program.nonnegative_cone();
    let (status, x) = match program.solve(&q, &cones, None) {
        Ok(solved) => solved,
        Err(status) => return Ok(Inradius::Failed { status }),
    };
    match status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => {
            let center = x[..d].to_vec();
            let lp_optimum = x[d];
            let z = net.pre_activations(&center)?;
            let exact = BoundaryDistanceSolver::new(net).solve(&center, &z, norm);
            if exact.pattern != *pattern {
                return Ok(Inradius::Failed {
                    status: format!(
                        "the LP centre lies outside the region (LP optimum {lp_optimum:e}: the region is too thin for the solver)"
                    ),
                });
            }
            Ok(Inradius::Ball {
                center,
                radius: exact.distance,
                lp_optimum,
            })
        }
        SolverStatus::DualInfeasible | SolverStatus::AlmostDualInfeasible => {
            Ok(Inradius::Unbounded)
        }
        other => Ok(Inradius::Failed {
            status: format!("{other:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Affine;
    use crate::random::{Init, random_architecture};
    use rand::{RngExt, SeedableRng, rngs::StdRng};

    #[test]
    fn square_region_has_the_inscribed_disc() {
        // Neurons x, 1 - x, y, 1 - y all active on the unit square: inradius 1/2 at the
        // centre (L2 and L-inf alike).
        let net = Network::new(
            vec![
                Affine::from_row_major(
                    4,
                    2,
                    &[1.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, -1.0],
                    vec![0.0, 1.0, 0.0, 1.0],
                )
                .unwrap(),
                Affine::from_row_major(1, 4, &[1.0; 4], vec![0.0]).unwrap(),
            ],
            false,
        )
        .unwrap();
        let p = net.pattern(&[0.3, 0.6]).unwrap();
        for norm in [Norm::L2, Norm::LInf] {
            match inradius(&net, &p, norm).unwrap() {
                Inradius::Ball {
                    center,
                    radius,
                    lp_optimum,
                } => {
                    assert!((radius - 0.5).abs() < 1e-6, "{radius}");
                    assert!((lp_optimum - 0.5).abs() < 1e-6);
                    assert!((center[0] - 0.5).abs() < 1e-5 && (center[1] - 0.5).abs() < 1e-5);
                }
                other => panic!("{other:?}"),
            }
        }
        // The strip x > 1, 0 < y < 1 is unbounded but holds only discs of radius 1/2.
        let strip = net.pattern(&[2.0, 0.5]).unwrap();
        match inradius(&net, &strip, Norm::L2).unwrap() {
            Inradius::Ball { radius, .. } => assert!((radius - 0.5).abs() < 1e-6),
            other => panic!("{other:?}"),
        }
        // The quadrant x > 1, y > 1 holds every disc.
        let quadrant = net.pattern(&[2.0, 2.0]).unwrap();
        assert_eq!(
            inradius(&net, &quadrant, Norm::L2).unwrap(),
            Inradius::Unbounded
        );
    }

    #[test]
    fn inradius_dominates_the_distance_at_any_point() {
        let mut rng = StdRng::seed_from_u64(17);
        for trial in 0..40 {
            let init = if trial % 2 == 0 {
                Init::He
            } else {
                Init::PytorchDefault
            };
            let net = random_architecture(&mut rng, init);
            let d = net.input_dim();
            let x: Vec<f64> = (0..d).map(|_| rng.random_range(-1.0..1.0)).collect();
            let r = crate::boundary_distance(&net, &x, Norm::L2).unwrap();
            match inradius(&net, &r.pattern, Norm::L2).unwrap() {
                Inradius::Ball {
                    radius, lp_optimum, ..
                } => {
                    assert!(
                        radius >= r.distance * (1.0 - 1e-6),
                        "trial {trial}: {radius} < {}",
                        r.distance
                    );
                    assert!((radius - lp_optimum).abs() <= 1e-5 * lp_optimum.max(1e-3));
                }
                Inradius::Unbounded => {}
                Inradius::Failed { status } => panic!("trial {trial}: {status}"),
            }
        }
    }
}
