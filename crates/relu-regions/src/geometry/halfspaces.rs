//! A polyhedron `P = {x in R^n : a_k . x <= b_k, k = 1..m}` as its half-spaces.

use crate::linalg::dot;

/// The half-spaces `a_k . x <= b_k` of a polyhedron in `R^n`: the rows `a_k` stored
/// row-major (`m x n`, row `k` at `a[k n .. (k + 1) n]`) with their right-hand sides `b_k`.
///
/// The region tree keeps its rows normalised to `||a_k||_2 = 1`, so that a row's slack
/// `b_k - a_k . x` is the Euclidean distance from `x` to the row's hyperplane (positive
/// inside); the solvers' tolerances are absolute on that scale. Rows are not normalised
/// here: callers say which scale they use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HalfSpaces {
    n: usize,
    a: Vec<f64>,
    b: Vec<f64>,
}

impl HalfSpaces {
    /// No half-spaces in `R^n` (the whole space).
    pub fn new(n: usize) -> Self {
        Self {
            n,
            a: Vec::new(),
            b: Vec::new(),
        }
    }

    /// [`HalfSpaces::new`] with room for `rows` half-spaces.
    pub fn with_capacity(n: usize, rows: usize) -> Self {
        Self {
            n,
            a: Vec::with_capacity(n * rows),
            b: Vec::with_capacity(rows),
        }
    }

    /// The polyhedron `{a_k . x <= b_k}` of the pairs `(a_k, b_k)`, in `R^n`.
    ///
    /// # Panics
    /// When a row's length is not `n` (a caller's bug, never user input).
    pub fn from_pairs(n: usize, pairs: &[(Vec<f64>, f64)]) -> Self {
        let mut h = Self::with_capacity(n, pairs.len());
        for (a, b) in pairs {
            h.push(a, *b);
        }
        h
    }

    /// The dimension `n` of the space.
    pub fn dim(&self) -> usize {
        self.n
    }

    /// The number `m` of half-spaces.
    pub fn len(&self) -> usize {
        self.b.len()
    }

    /// Whether there is no half-space (the whole space).
    pub fn is_empty(&self) -> bool {
        self.b.is_empty()
    }

    /// Adds the half-space `a . x <= b`.
    ///
    /// # Panics
    /// When `a.len() != n` (a caller's bug, never user input).
    pub fn push(&mut self, a: &[f64], b: f64) {
        assert_eq!(
            a.len(),
            self.n,
            "a half-space of R^{} needs {0} coefficients",
            self.n
        );
        self.a.extend_from_slice(a);
        self.b.push(b);
    }

    /// Removes the half-spaces after the first `m`.
    pub fn truncate(&mut self, m: usize) {
        self.a.truncate(m * self.n);
        self.b.truncate(m);
    }

    /// The row `a_k`.
    pub fn row(&self, k: usize) -> &[f64] {
        &self.a[k * self.n..(k + 1) * self.n]
    }

    /// The right-hand side `b_k`.
    pub fn rhs(&self, k: usize) -> f64 {
        self.b[k]
    }

    /// Every row, row-major (`m x n`).
    pub fn rows_flat(&self) -> &[f64] {
        &self.a
    }

    /// Every right-hand side.
    pub fn rhs_all(&self) -> &[f64] {
        &self.b
    }

    /// The half-spaces as `(a_k, b_k)`.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&[f64], f64)> + '_ {
        (0..self.len()).map(|k| (self.row(k), self.b[k]))
    }

    /// `b_k - a_k . x`, the slack of half-space `k` at `x` (nonnegative inside).
    pub fn slack(&self, k: usize, x: &[f64]) -> f64 {
        self.b[k] - dot(self.row(k), x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_slacks_and_truncation() {
        let mut h = HalfSpaces::new(2);
        assert!(h.is_empty());
        h.push(&[1.0, 0.0], 1.0);
        h.push(&[0.0, -1.0], 2.0);
        assert_eq!(h.len(), 2);
        assert_eq!(h.row(1), &[0.0, -1.0]);
        assert_eq!(h.rhs(0), 1.0);
        assert_eq!(h.slack(0, &[0.25, 0.0]), 0.75);
        assert_eq!(h.slack(1, &[0.0, 1.0]), 3.0);
        let pairs: Vec<(Vec<f64>, f64)> = h.iter().map(|(a, b)| (a.to_vec(), b)).collect();
        assert_eq!(HalfSpaces::from_pairs(2, &pairs), h);
        h.truncate(1);
        assert_eq!(h.len(), 1);
        assert_eq!(h.rows_flat(), &[1.0, 0.0]);
    }
}
