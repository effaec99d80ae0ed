//! Reference implementations: the definitions of the ops, one output at a time with nested
//! loops over the tensors, written independently of the loader's code.

/// A row-major matrix as rows.
pub(crate) fn rows(data: &[f64], r: usize, c: usize) -> Vec<Vec<f64>> {
    (0..r).map(|i| data[i * c..(i + 1) * c].to_vec()).collect()
}

pub(crate) fn transpose(m: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let (r, c) = (m.len(), m[0].len());
    (0..c).map(|j| (0..r).map(|i| m[i][j]).collect()).collect()
}

/// Plain matrix product of row lists.
pub(crate) fn matmul_rows(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let (m, k, n) = (a.len(), b.len(), b[0].len());
    assert_eq!(a[0].len(), k);
    let mut out = vec![vec![0.0; n]; m];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            for l in 0..k {
                s += a[i][l] * b[l][j];
            }
            out[i][j] = s;
        }
    }
    out
}

/// ONNX Gemm: `alpha * A' B' + beta * C`, C of shape `[]`, `[N]`, `[1, N]`, `[M, 1]` or
/// `[M, N]`. Returns the `[M, N]` result flattened.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_ref(
    a: &[f64],
    a_shape: [usize; 2],
    b: &[f64],
    b_shape: [usize; 2],
    c: Option<(&[f64], &[usize])>,
    alpha: f64,
    beta: f64,
    trans_a: bool,
    trans_b: bool,
) -> Vec<f64> {
    let mut am = rows(a, a_shape[0], a_shape[1]);
    if trans_a {
        am = transpose(&am);
    }
    let mut bm = rows(b, b_shape[0], b_shape[1]);
    if trans_b {
        bm = transpose(&bm);
    }
    let p = matmul_rows(&am, &bm);
    let (m, n) = (p.len(), p[0].len());
    let mut out = Vec::new();
    for i in 0..m {
        for j in 0..n {
            let cv = match c {
                None => 0.0,
                Some((c, shape)) => match shape {
                    [] => c[0],
                    [_] => c[j],
                    [1, _] => c[j],
                    [_, 1] => c[i],
                    _ => c[i * n + j],
                },
            };
            out.push(alpha * p[i][j] + beta * cv);
        }
    }
    out
}

/// `x W^T + b` for `W` `[out, in]` (PyTorch Linear).
pub(crate) fn linear_ref(x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
    let out = b.len();
    let inp = x.len();
    assert_eq!(w.len(), out * inp);
    (0..out)
        .map(|o| b[o] + (0..inp).map(|i| w[o * inp + i] * x[i]).sum::<f64>())
        .collect()
}

/// `x @ W` for `x` a vector and `W` `[in, out]`.
pub(crate) fn x_at_w(x: &[f64], w: &[f64], out: usize) -> Vec<f64> {
    let inp = x.len();
    (0..out)
        .map(|o| (0..inp).map(|i| x[i] * w[i * out + o]).sum())
        .collect()
}

pub(crate) fn relu(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&x| x.max(0.0)).collect()
}

pub(crate) fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

pub(crate) struct ConvSpec {
    pub(crate) strides: [usize; 2],
    /// top, left, bottom, right
    pub(crate) pads: [usize; 4],
    pub(crate) dilations: [usize; 2],
}

/// 2-D convolution of one image `[C, H, W]` with `W` `[M, C, kH, kW]`: the definition,
/// one output at a time. Returns the output and its `[M, OH, OW]`.
pub(crate) fn conv_ref(
    x: &[f64],
    [c, h, w]: [usize; 3],
    wt: &[f64],
    [m, kh, kw]: [usize; 3],
    bias: Option<&[f64]>,
    spec: &ConvSpec,
) -> (Vec<f64>, [usize; 3]) {
    let [sh, sw] = spec.strides;
    let [pt, pl, pb, pr] = spec.pads;
    let [dh, dw] = spec.dilations;
    let oh = (h + pt + pb - (dh * (kh - 1) + 1)) / sh + 1;
    let ow = (w + pl + pr - (dw * (kw - 1) + 1)) / sw + 1;
    let mut out = Vec::new();
    for o in 0..m {
        for y in 0..oh {
            for xx in 0..ow {
                let mut s = bias.map_or(0.0, |b| b[o]);
                for ci in 0..c {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let iy = (y * sh + ky * dh) as i64 - pt as i64;
                            let ix = (xx * sw + kx * dw) as i64 - pl as i64;
                            if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
                                continue;
                            }
                            let (iy, ix) = (iy as usize, ix as usize);
                            s += wt[((o * c + ci) * kh + ky) * kw + kx] * x[(ci * h + iy) * w + ix];
                        }
                    }
                }
                out.push(s);
            }
        }
    }
    (out, [m, oh, ow])
}

/// BatchNormalization at inference on `[C, inner]` (one sample).
pub(crate) fn bn_ref(x: &[f64], c: usize, p: [&[f64]; 4], eps: f64) -> Vec<f64> {
    let [scale, b, mean, var] = p;
    let inner = x.len() / c;
    (0..x.len())
        .map(|i| {
            let ch = i / inner;
            scale[ch] * (x[i] - mean[ch]) / (var[ch] + eps).sqrt() + b[ch]
        })
        .collect()
}
