//! Linear algebra the analyses share: dot products in a fixed summation order, and
//! row-space reductions of weight matrices (faer underneath).

use faer::{Mat, MatRef, Par};

/// `sum_i x_i y_i`, summed in index order (the rounding every caller relies on when it
/// compares against a kernel summing in the same order).
#[inline]
pub(crate) fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

/// The rows `idx` of `m`, each times its factor: row `k` is `s_k m[i_k, :]` for
/// `(i_k, s_k) = columns[k]`.
pub(crate) fn gather_scaled_rows(m: MatRef<'_, f64>, columns: &[(usize, f64)]) -> Mat<f64> {
    Mat::from_fn(columns.len(), m.ncols(), |k, j| {
        columns[k].1 * m[(columns[k].0, j)]
    })
}

/// A matrix `P'` with `P P^T = P' P'^T` (so equal row norms and equal products with any
/// vector on the left) and `min(rows, cols)` columns: `P'= R^T` from `P^T = Q R`.
pub(crate) fn compress_rows(p: MatRef<'_, f64>) -> Mat<f64> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::qr::no_pivoting::factor;
    let (rows, cols) = (p.nrows(), p.ncols());
    let size = rows.min(cols);
    if size == 0 {
        return Mat::zeros(rows, 0);
    }
    let mut qr = p.transpose().to_owned();
    let block = factor::recommended_block_size::<f64>(cols, rows);
    let mut coeff = Mat::zeros(block, size);
    let mut buffer = MemBuffer::new(factor::qr_in_place_scratch::<f64>(
        cols,
        rows,
        block,
        Par::Seq,
        Default::default(),
    ));
    factor::qr_in_place(
        qr.as_mut(),
        coeff.as_mut(),
        Par::Seq,
        MemStack::new(&mut buffer),
        Default::default(),
    );
    // R is the upper triangle of the first `size` rows; P' = R^T.
    Mat::from_fn(rows, size, |i, k| if k <= i { qr[(k, i)] } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_rows_keep_every_product() {
        let p = Mat::from_fn(5, 3, |i, j| ((i * 3 + j) as f64).sin());
        let c = compress_rows(p.as_ref());
        assert_eq!((c.nrows(), c.ncols()), (5, 3));
        let (pp, cc) = (&p * p.transpose(), &c * c.transpose());
        for i in 0..5 {
            for j in 0..5 {
                assert!((pp[(i, j)] - cc[(i, j)]).abs() < 1e-12);
            }
        }
        let g = gather_scaled_rows(p.as_ref(), &[(4, 1.0), (1, 0.5)]);
        assert_eq!(g[(0, 2)], p[(4, 2)]);
        assert_eq!(g[(1, 0)], 0.5 * p[(1, 0)]);
        assert_eq!(dot(&[1.0, 2.0], &[3.0, 4.0]), 11.0);
    }
}
