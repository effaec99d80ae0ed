//! The geometric objects the analyses share: polyhedra as intersections of half-spaces
//! ([`HalfSpaces`]) and convex polygons of the plane ([`polygon`]).
//!
//! An activation region is a convex polyhedron `{x : s_k (g_k . x + c_k) >= 0}`; the region
//! tree ([`crate::exact`]) carries it as [`HalfSpaces`], its optimisations read it as such,
//! and the inradius of [`crate::chebyshev`] builds one. In two dimensions the same regions
//! are convex polygons, which the 2-D slices ([`crate::slice::plane`]) and the region
//! tree's 2-D pre-filter cut with [`polygon`]'s operations.

mod halfspaces;
pub mod polygon;

pub use halfspaces::HalfSpaces;
pub use polygon::Point2;
