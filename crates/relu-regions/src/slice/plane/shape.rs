//! The slice: a plane of the input space and a planar shape in its coordinates.

use rand::SeedableRng;
use rand::rngs::StdRng;

use faer::Mat;

use super::{DEFAULT_DISC_VERTICES, Point2, SliceError, polygon};
use crate::linalg::dot;

/// The plane `c + a u + b v` through the input space.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    center: Vec<f64>,
    u: Vec<f64>,
    v: Vec<f64>,
}

impl Plane {
    /// The plane through `center` spanned by `u` and `v`, used as given.
    ///
    /// Errors when the lengths differ, a coordinate is not finite, or `u` and `v` span no
    /// plane: one is zero or `sin^2` of their angle is below `1e-24`.
    pub fn new(center: Vec<f64>, u: Vec<f64>, v: Vec<f64>) -> Result<Self, SliceError> {
        if center.len() != u.len() || center.len() != v.len() {
            return Err(SliceError::Lengths {
                center: center.len(),
                u: u.len(),
                v: v.len(),
            });
        }
        for (name, x) in [("the centre", &center), ("u", &u), ("v", &v)] {
            if x.iter().any(|t| !t.is_finite()) {
                return Err(SliceError::NonFinite(name));
            }
        }
        let (uu, vv, uv) = (dot(&u, &u), dot(&v, &v), dot(&u, &v));
        if uu == 0.0 || vv == 0.0 || uu * vv - uv * uv <= 1e-24 * uu * vv {
            return Err(SliceError::DegenerateDirections);
        }
        Ok(Self { center, u, v })
    }

    /// The plane through `center` and the points `p` and `q`: `u = p - center`,
    /// `v = q - center`, as given, so that `p` is at `(a, b) = (1, 0)` and `q` at `(0, 1)`.
    /// Follow with [`Plane::orthonormalized`] for Euclidean coordinates.
    pub fn through(center: Vec<f64>, p: &[f64], q: &[f64]) -> Result<Self, SliceError> {
        if p.len() != center.len() || q.len() != center.len() {
            return Err(SliceError::Lengths {
                center: center.len(),
                u: p.len(),
                v: q.len(),
            });
        }
        let u = p.iter().zip(&center).map(|(x, c)| x - c).collect();
        let v = q.iter().zip(&center).map(|(x, c)| x - c).collect();
        Self::new(center, u, v)
    }

    /// A uniformly random orthonormal pair of directions through `center` (Gaussian
    /// vectors, orthonormalised), deterministic for a given `seed`.
    pub fn random_orthonormal(center: Vec<f64>, seed: u64) -> Result<Self, SliceError> {
        let d = center.len();
        if d < 2 {
            return Err(SliceError::InputTooSmall(d));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let u: Vec<f64> = (0..d)
            .map(|_| crate::random::standard_normal(&mut rng))
            .collect();
        let v: Vec<f64> = (0..d)
            .map(|_| crate::random::standard_normal(&mut rng))
            .collect();
        Self::new(center, u, v)?.orthonormalized()
    }

    /// The same plane with `u, v` replaced by an orthonormal basis of their span
    /// (Gram-Schmidt, applied twice for accuracy): `u' = u / |u|`, `v'` the unit part of
    /// `v` orthogonal to `u`. `(a, b)` become Euclidean coordinates of the plane.
    pub fn orthonormalized(&self) -> Result<Self, SliceError> {
        let nu = dot(&self.u, &self.u).sqrt();
        let u: Vec<f64> = self.u.iter().map(|x| x / nu).collect();
        let mut v = self.v.clone();
        for _ in 0..2 {
            let p = dot(&v, &u);
            v.iter_mut().zip(&u).for_each(|(x, y)| *x -= p * y);
        }
        let nv = dot(&v, &v).sqrt();
        v.iter_mut().for_each(|x| *x /= nv);
        Self::new(self.center.clone(), u, v)
    }

    /// The centre `c`.
    pub fn center(&self) -> &[f64] {
        &self.center
    }

    /// The first direction `u`.
    pub fn u(&self) -> &[f64] {
        &self.u
    }

    /// The second direction `v`.
    pub fn v(&self) -> &[f64] {
        &self.v
    }

    /// Dimension of the input space.
    pub fn dim(&self) -> usize {
        self.center.len()
    }

    /// The input point `c + a u + b v`.
    pub fn point(&self, p: Point2) -> Vec<f64> {
        (0..self.dim())
            .map(|j| self.center[j] + p[0] * self.u[j] + p[1] * self.v[j])
            .collect()
    }

    /// The points of `ps`, one per row.
    pub fn points(&self, ps: &[Point2]) -> Mat<f64> {
        Mat::from_fn(ps.len(), self.dim(), |i, j| {
            self.center[j] + ps[i][0] * self.u[j] + ps[i][1] * self.v[j]
        })
    }

    /// The coordinates `(a, b)` of the orthogonal projection of `x` onto the plane: the
    /// least-squares solution of `c + a u + b v ≈ x`, from the normal equations
    /// `[u.u u.v; u.v v.v] (a, b) = (u.(x - c), v.(x - c))` (input units of `x` and `c`; `u`
    /// and `v` as given, independent by construction of a [`Plane`]). A point of the plane
    /// gets its own coordinates back.
    pub fn coordinates(&self, x: &[f64]) -> Point2 {
        let d: Vec<f64> = x.iter().zip(&self.center).map(|(a, c)| a - c).collect();
        let (u, v) = (&self.u, &self.v);
        let (uu, uv, vv) = (dot(u, u), dot(u, v), dot(v, v));
        let (du, dv) = (dot(&d, u), dot(&d, v));
        let det = uu * vv - uv * uv;
        [(du * vv - dv * uv) / det, (dv * uu - du * uv) / det]
    }
}

/// The part of the plane that is partitioned, in `(a, b)` coordinates, centred at `(0, 0)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// The square `[-half_width, half_width]^2`.
    Square { half_width: f64 },
    /// The regular polygon with `vertices` vertices (the first at angle 0) inscribed in the
    /// disc of radius `radius`, or circumscribed about it.
    Disc {
        radius: f64,
        vertices: usize,
        circumscribed: bool,
    },
}

impl Shape {
    /// The square `[-r, r]^2`.
    pub fn square(r: f64) -> Self {
        Self::Square { half_width: r }
    }

    /// The disc of radius `r` as the inscribed regular polygon with
    /// [`DEFAULT_DISC_VERTICES`] vertices.
    pub fn disc(r: f64) -> Self {
        Self::Disc {
            radius: r,
            vertices: DEFAULT_DISC_VERTICES,
            circumscribed: false,
        }
    }

    pub(super) fn check(&self) -> Result<(), SliceError> {
        let r = match *self {
            Self::Square { half_width } => half_width,
            Self::Disc {
                radius, vertices, ..
            } => {
                if vertices < 3 {
                    return Err(SliceError::Shape(format!(
                        "a disc polygon needs at least 3 vertices, got {vertices}"
                    )));
                }
                radius
            }
        };
        if !(r.is_finite() && r > 0.0) {
            return Err(SliceError::Shape(format!(
                "the radius must be positive and finite, got {r}"
            )));
        }
        Ok(())
    }

    /// Distance from the origin to the polygon's vertices.
    fn vertex_radius(&self) -> f64 {
        match *self {
            Self::Square { half_width } => half_width * std::f64::consts::SQRT_2,
            Self::Disc {
                radius,
                vertices,
                circumscribed,
            } => {
                if circumscribed {
                    radius / (std::f64::consts::PI / vertices as f64).cos()
                } else {
                    radius
                }
            }
        }
    }

    /// The largest `|a|` and `|b|` over the shape.
    pub fn extent(&self) -> f64 {
        match *self {
            Self::Square { half_width } => half_width,
            Self::Disc { .. } => self.vertex_radius(),
        }
    }

    /// The vertices, counter-clockwise.
    pub fn polygon(&self) -> Vec<Point2> {
        match *self {
            Self::Square { half_width: r } => vec![[-r, -r], [r, -r], [r, r], [-r, r]],
            Self::Disc { vertices: n, .. } => {
                let rho = self.vertex_radius();
                (0..n)
                    .map(|k| {
                        let t = std::f64::consts::TAU * k as f64 / n as f64;
                        [rho * t.cos(), rho * t.sin()]
                    })
                    .collect()
            }
        }
    }

    /// The exact area of the polygon: `4 r^2`, or `n/2 rho^2 sin(2 pi / n)` for the regular
    /// `n`-gon with vertices at distance `rho`.
    pub fn area(&self) -> f64 {
        match *self {
            Self::Square { half_width: r } => 4.0 * r * r,
            Self::Disc { vertices: n, .. } => {
                let rho = self.vertex_radius();
                0.5 * n as f64 * rho * rho * (std::f64::consts::TAU / n as f64).sin()
            }
        }
    }

    /// Whether `p` is strictly inside the polygon.
    pub fn contains(&self, p: Point2) -> bool {
        polygon::contains(&self.polygon(), p)
    }

    /// The centres of an `n x n` grid of cells over `[-R, R]^2` that lie strictly inside
    /// the shape, shifted by `0.0137 / n` of the width in `a` and `0.0071 / n` in `b` so
    /// that no grid point lies on the axes or diagonals (where hand-made networks put
    /// their lines).
    pub fn grid(&self, n: usize) -> Vec<Point2> {
        let r = self.extent();
        let poly = self.polygon();
        let step = 2.0 * r / n as f64;
        let mut out = Vec::new();
        for i in 0..n {
            for j in 0..n {
                let p = [
                    -r + (i as f64 + 0.5137) * step,
                    -r + (j as f64 + 0.5071) * step,
                ];
                if polygon::contains(&poly, p) {
                    out.push(p);
                }
            }
        }
        out
    }
}
