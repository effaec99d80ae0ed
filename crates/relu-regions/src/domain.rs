//! Norms and domains of the input space.
//!
//! Distances and radii are in the network's input units (after the loader's folding).

/// The norm measuring distances in the input space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Norm {
    /// Euclidean norm `||v||_2`.
    L2,
    /// Maximum norm `||v||_inf = max_j |v_j|`.
    LInf,
}

impl Norm {
    /// `||v||` in this norm.
    pub fn of(self, v: &[f64]) -> f64 {
        match self {
            Self::L2 => v.iter().map(|x| x * x).sum::<f64>().sqrt(),
            Self::LInf => v.iter().fold(0.0, |m, x| m.max(x.abs())),
        }
    }

    /// The dual norm `||a||_* = sup_{||v|| <= 1} a.v`: L2 for L2, L1 for L-inf. The
    /// distance from `x` to the hyperplane `{y : a.y + c = 0}` is `|a.x + c| / ||a||_*`.
    pub fn dual_of(self, a: &[f64]) -> f64 {
        match self {
            Self::L2 => a.iter().map(|x| x * x).sum::<f64>().sqrt(),
            Self::LInf => a.iter().map(|x| x.abs()).sum(),
        }
    }

    /// Lower-case name (`l2`, `linf`).
    pub fn name(self) -> &'static str {
        match self {
            Self::L2 => "l2",
            Self::LInf => "linf",
        }
    }
}
