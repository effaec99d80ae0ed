//! Exact partitions of low-dimensional slices of the input space.
pub mod line;
pub mod plane;
