//! Convex polygons of the plane, as vertex lists `[x, y]` in counter-clockwise order
//! (plane coordinates of a 2-D slice, or the input coordinates of a 2-D network).
//!
//! The 2-D slices ([`crate::slice::plane`]) split polygons by the zero set of an affine
//! function known at the vertices ([`split`]); the region tree's 2-D pre-filter clips a
//! polygon containing a node by each new half-plane ([`clip`]).

/// A point of the plane.
pub type Point2 = [f64; 2];

/// Whether `p` is strictly inside the convex counter-clockwise polygon `poly`.
pub fn contains(poly: &[Point2], p: Point2) -> bool {
    let m = poly.len();
    (0..m).all(|i| {
        let (s, e) = (poly[i], poly[(i + 1) % m]);
        (e[0] - s[0]) * (p[1] - s[1]) - (e[1] - s[1]) * (p[0] - s[0]) > 0.0
    })
}

/// The signed area of a polygon (positive when counter-clockwise), by the shoelace sum in
/// coordinates relative to its first vertex.
pub fn area(poly: &[Point2]) -> f64 {
    if poly.len() < 3 {
        return 0.0;
    }
    let o = poly[0];
    let mut s = 0.0;
    for w in poly[1..].windows(2) {
        let (p, q) = (
            [w[0][0] - o[0], w[0][1] - o[1]],
            [w[1][0] - o[0], w[1][1] - o[1]],
        );
        s += p[0] * q[1] - p[1] * q[0];
    }
    0.5 * s
}

/// The centroid of a convex polygon (area-weighted; the vertex mean when the area is zero).
pub fn centroid(poly: &[Point2]) -> Point2 {
    let o = poly[0];
    let (mut sx, mut sy, mut sw) = (0.0, 0.0, 0.0);
    for w in poly[1..].windows(2) {
        let (p, q) = (
            [w[0][0] - o[0], w[0][1] - o[1]],
            [w[1][0] - o[0], w[1][1] - o[1]],
        );
        let c = p[0] * q[1] - p[1] * q[0];
        sx += c * (p[0] + q[0]);
        sy += c * (p[1] + q[1]);
        sw += c;
    }
    if sw > 0.0 {
        [o[0] + sx / (3.0 * sw), o[1] + sy / (3.0 * sw)]
    } else {
        vertex_mean(poly)
    }
}

/// The mean of the vertices.
pub fn vertex_mean(poly: &[Point2]) -> Point2 {
    let n = poly.len() as f64;
    let (sx, sy) = poly
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
    [sx / n, sy / n]
}

/// The area below which a polygon is numerically flat: `16 m eps d^2` with `d` the
/// diagonal of its bounding box.
pub fn area_floor(poly: &[Point2]) -> f64 {
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for p in poly {
        for i in 0..2 {
            lo[i] = lo[i].min(p[i]);
            hi[i] = hi[i].max(p[i]);
        }
    }
    let d2 = (hi[0] - lo[0]).powi(2) + (hi[1] - lo[1]).powi(2);
    16.0 * poly.len() as f64 * f64::EPSILON * d2
}

/// Splits the convex polygon `poly` by an affine function with values `z` at its vertices:
/// returns the parts where it is `>= 0` and `<= 0`, vertices with `|z| <= tol` on both.
/// The intersection point of an edge whose ends are beyond `tol` with opposite signs is
/// computed from the lexicographically smaller end point (so neighbours agree on it).
pub fn split(poly: &[Point2], z: &[f64], tol: f64) -> (Vec<Point2>, Vec<Point2>) {
    let m = poly.len();
    let sign = |v: f64| -> i8 {
        if v > tol {
            1
        } else if v < -tol {
            -1
        } else {
            0
        }
    };
    let mut plus = Vec::with_capacity(m + 2);
    let mut minus = Vec::with_capacity(m + 2);
    for i in 0..m {
        let j = (i + 1) % m;
        let (si, sj) = (sign(z[i]), sign(z[j]));
        if si >= 0 {
            plus.push(poly[i]);
        }
        if si <= 0 {
            minus.push(poly[i]);
        }
        if si * sj < 0 {
            let (p, zp, q, zq) = if poly[i] <= poly[j] {
                (poly[i], z[i], poly[j], z[j])
            } else {
                (poly[j], z[j], poly[i], z[i])
            };
            let t = zp / (zp - zq);
            let x = [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])];
            plus.push(x);
            minus.push(x);
        }
    }
    (dedup(plus), dedup(minus))
}

/// Removes consecutive (cyclically) identical vertices.
pub fn dedup(mut poly: Vec<Point2>) -> Vec<Point2> {
    poly.dedup();
    while poly.len() > 1 && poly.first() == poly.last() {
        poly.pop();
    }
    poly
}

/// The polygon `p ∩ {a . x <= b}` (Sutherland-Hodgman against one half-plane).
pub fn clip(p: &[Point2], a: [f64; 2], b: f64) -> Vec<Point2> {
    let f = |v: &[f64; 2]| a[0] * v[0] + a[1] * v[1] - b;
    let mut out = Vec::with_capacity(p.len() + 1);
    for (k, v) in p.iter().enumerate() {
        let w = &p[(k + 1) % p.len()];
        let (fv, fw) = (f(v), f(w));
        if fv <= 0.0 {
            out.push(*v);
        }
        if (fv < 0.0 && fw > 0.0) || (fv > 0.0 && fw < 0.0) {
            let t = fv / (fv - fw);
            out.push([v[0] + t * (w[0] - v[0]), v[1] + t * (w[1] - v[1])]);
        }
    }
    out
}
