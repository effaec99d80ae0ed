//! # relu-regions: the local geometry of ReLU networks
//!
//! A ReLU network `f(x) = W_L relu(... relu(W_1 x + b_1) ...) + b_L` is piecewise linear:
//! fixing which neurons are active (pre-activation `z > 0`) fixes an affine map, and the
//! inputs sharing one *activation pattern* form a convex polyhedron, its *activation
//! region*. This crate holds the mathematics only: no file formats, no terminal, no plots
//! (formats live in `relu-regions-io`, the command line in `relu-regions-cli`).
//!
//! Conventions used everywhere:
//! - A network is a chain of affine layers with ReLU after every layer but the last, and
//!   after the last too when [`Network::output_relu`] is set. Every loader lowers its
//!   file to this one canonical [`Network`].
//! - Matrices are `out x in` (`faer::Mat<f64>`); analysis is in `f64` whatever the file's
//!   precision was.
//! - A neuron is *active* when its pre-activation is strictly positive; `z = 0` is inactive
//!   for the pattern (the point lies on the neuron's hyperplane, a region boundary).
//! - Batches of points are matrices with **one point per row** (`n x input_dim`).

pub mod bound;
pub mod chebyshev;
pub mod distance;
pub mod domain;
pub mod error;
pub mod exact;
pub mod geometry;
mod linalg;
pub mod network;
pub mod pattern;
pub mod random;
pub mod region;
pub mod sample;
mod simd;
pub mod slice;
pub mod stability;

pub use distance::{BoundaryDistance, boundary_distance};
pub use domain::{Ball, BoxDomain, Domain, Norm};
pub use error::NetworkError;
pub use network::{Affine, BatchEvaluation, Network, NeuronId};
pub use pattern::ActivationPattern;
pub use region::LocalAffineMap;
