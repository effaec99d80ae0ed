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

/// A ball `{x : ||x - center|| <= radius}` in the L2 or L-inf norm.
#[derive(Debug, Clone, PartialEq)]
pub struct Ball {
    pub center: Vec<f64>,
    pub radius: f64,
    pub norm: Norm,
}

/// An axis-aligned box `{x : lo <= x <= hi}` (coordinatewise).
#[derive(Debug, Clone, PartialEq)]
pub struct BoxDomain {
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

/// A convex domain of the input space with nonempty interior (or a single point when
/// the radius or a width is zero).
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    Ball(Ball),
    Box(BoxDomain),
}

/// Why a domain is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    #[error("the domain has dimension {found} but the network takes {expected} inputs")]
    Dimension { expected: usize, found: usize },
    #[error("radius {0} must be finite and non-negative")]
    Radius(f64),
    #[error("coordinate {index}: {what} {value} is not finite")]
    NonFinite {
        index: usize,
        what: &'static str,
        value: f64,
    },
    #[error("coordinate {index}: lower bound {lo} exceeds upper bound {hi}")]
    EmptyBox { index: usize, lo: f64, hi: f64 },
}

impl Domain {
    /// An L2 or L-inf ball.
    pub fn ball(center: Vec<f64>, radius: f64, norm: Norm) -> Result<Self, DomainError> {
        if !(radius.is_finite() && radius >= 0.0) {
            return Err(DomainError::Radius(radius));
        }
        if let Some((index, &value)) = center.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(DomainError::NonFinite {
                index,
                what: "centre",
                value,
            });
        }
        Ok(Self::Ball(Ball {
            center,
            radius,
            norm,
        }))
    }

    /// A box `[lo, hi]`.
    pub fn boxed(lo: Vec<f64>, hi: Vec<f64>) -> Result<Self, DomainError> {
        if lo.len() != hi.len() {
            return Err(DomainError::Dimension {
                expected: lo.len(),
                found: hi.len(),
            });
        }
        for (index, (&l, &h)) in lo.iter().zip(&hi).enumerate() {
            for (what, value) in [("lower bound", l), ("upper bound", h)] {
                if !value.is_finite() {
                    return Err(DomainError::NonFinite { index, what, value });
                }
            }
            if l > h {
                return Err(DomainError::EmptyBox {
                    index,
                    lo: l,
                    hi: h,
                });
            }
        }
        Ok(Self::Box(BoxDomain { lo, hi }))
    }

    /// Dimension of the ambient space.
    pub fn dim(&self) -> usize {
        match self {
            Self::Ball(b) => b.center.len(),
            Self::Box(b) => b.lo.len(),
        }
    }

    /// Checks the dimension against a network's input dimension.
    pub fn check_dim(&self, input_dim: usize) -> Result<(), DomainError> {
        if self.dim() != input_dim {
            return Err(DomainError::Dimension {
                expected: input_dim,
                found: self.dim(),
            });
        }
        Ok(())
    }

    /// The domain's centre (the box's midpoint).
    pub fn center(&self) -> Vec<f64> {
        match self {
            Self::Ball(b) => b.center.clone(),
            Self::Box(b) => b.lo.iter().zip(&b.hi).map(|(l, h)| 0.5 * (l + h)).collect(),
        }
    }

    /// Dimension of the domain's affine hull (coordinates of a box with `lo = hi` do not
    /// count; a ball of radius 0 has dimension 0).
    pub fn affine_dim(&self) -> usize {
        match self {
            Self::Ball(b) if b.radius == 0.0 => 0,
            Self::Ball(b) => b.center.len(),
            Self::Box(b) => b.lo.iter().zip(&b.hi).filter(|(l, h)| h > l).count(),
        }
    }

    /// The range `[min, max]` of the affine function `a . x + beta` over the domain:
    /// `a.c + beta -+ r ||a||_*` for a ball (dual norm), `a.m + beta -+ |a|.h` for a box
    /// with midpoint `m` and half-widths `h`. Also returns the magnitude
    /// `|a|.|c| + |beta| + r||a||_*` that bounds the rounding error of the evaluation.
    pub fn linear_range(&self, a: &[f64], beta: f64) -> (f64, f64, f64) {
        match self {
            Self::Ball(b) => {
                let mut center = beta;
                let mut magnitude = beta.abs();
                for (ai, ci) in a.iter().zip(&b.center) {
                    center += ai * ci;
                    magnitude += (ai * ci).abs();
                }
                let spread = b.radius * b.norm.dual_of(a);
                (center - spread, center + spread, magnitude + spread)
            }
            Self::Box(b) => {
                let mut center = beta;
                let mut spread = 0.0;
                let mut magnitude = beta.abs();
                for ((ai, l), h) in a.iter().zip(&b.lo).zip(&b.hi) {
                    let (m, w) = (0.5 * (l + h), 0.5 * (h - l));
                    center += ai * m;
                    spread += ai.abs() * w;
                    magnitude += (ai * m).abs();
                }
                (center - spread, center + spread, magnitude + spread)
            }
        }
    }

    /// Whether `x` lies in the domain (closed).
    pub fn contains(&self, x: &[f64]) -> bool {
        match self {
            Self::Ball(b) => {
                let diff: Vec<f64> = x.iter().zip(&b.center).map(|(a, c)| a - c).collect();
                b.norm.of(&diff) <= b.radius
            }
            Self::Box(b) => x
                .iter()
                .zip(b.lo.iter().zip(&b.hi))
                .all(|(v, (l, h))| *l <= *v && *v <= *h),
        }
    }

    /// `n` points uniform in the domain (one per row), seeded.
    pub fn sample_uniform(&self, n: usize, rng: &mut rand::rngs::StdRng) -> faer::Mat<f64> {
        use rand::RngExt;
        let d = self.dim();
        let mut out = faer::Mat::zeros(n, d);
        for i in 0..n {
            match self {
                Self::Ball(b) => match b.norm {
                    Norm::L2 => {
                        // Uniform direction times radius * U^(1/d).
                        let g: Vec<f64> = (0..d)
                            .map(|_| crate::random::standard_normal(rng))
                            .collect();
                        let len = Norm::L2.of(&g).max(f64::MIN_POSITIVE);
                        let u: f64 = rng.random_range(0.0..1.0);
                        let s = b.radius * u.powf(1.0 / d as f64) / len;
                        for j in 0..d {
                            out[(i, j)] = b.center[j] + s * g[j];
                        }
                    }
                    Norm::LInf => {
                        for j in 0..d {
                            out[(i, j)] = b.center[j] + b.radius * rng.random_range(-1.0..=1.0);
                        }
                    }
                },
                Self::Box(b) => {
                    for j in 0..d {
                        out[(i, j)] = if b.hi[j] > b.lo[j] {
                            rng.random_range(b.lo[j]..=b.hi[j])
                        } else {
                            b.lo[j]
                        };
                    }
                }
            }
        }
        out
    }
}
