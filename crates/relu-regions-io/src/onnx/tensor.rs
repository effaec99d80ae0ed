//! Constant tensors (initializers and `Constant` nodes), node attributes, and the shape
//! arithmetic of numpy broadcasting.
//!
//! Everything here is defensive: dimensions come from untrusted files, so every product
//! is checked, every length is compared with the declared shape before use, and nothing
//! indexes a buffer whose length has not been checked.

use super::proto::{AttributeProto, NodeProto, TensorProto};
use super::{MAX_DENSE_ENTRIES, NodeCtx, OnnxError};

/// A decoded constant tensor, widened to `f64` (integers are also kept exactly, for shape
/// tensors). Invariant: `data.len() == dims.iter().product()`.
#[derive(Debug, Clone)]
pub(crate) struct Constant {
    /// Name for messages: the initializer's name, or the `Constant` node's output.
    pub name: String,
    pub dims: Vec<usize>,
    pub data: Vec<f64>,
    /// The exact values of an integer tensor (`INT32`/`INT64`), `None` for floats.
    pub ints: Option<Vec<i64>>,
}

impl Constant {
    pub(crate) fn rank(&self) -> usize {
        self.dims.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    /// The exact integer values, for shape-like inputs (Reshape's shape, Squeeze's axes).
    pub(crate) fn int_values(&self, ctx: &NodeCtx, what: &str) -> Result<Vec<i64>, OnnxError> {
        match &self.ints {
            Some(v) => Ok(v.clone()),
            None => Err(ctx.bad_tensor(
                &self.name,
                format!("{what} must be an int64 or int32 tensor, found floating-point values"),
            )),
        }
    }
}

/// Why a tensor could not be decoded (the caller adds the node and tensor names).
pub(crate) enum TensorIssue {
    External,
    Bad(String),
    NonFinite { index: usize, value: f64 },
}

impl TensorIssue {
    pub(crate) fn into_error(self, ctx: &NodeCtx, tensor: &str) -> OnnxError {
        match self {
            TensorIssue::External => OnnxError::ExternalDataUnread {
                node: ctx.label.clone(),
                op: ctx.op.clone(),
                tensor: tensor.to_string(),
            },
            TensorIssue::Bad(message) => ctx.bad_tensor(tensor, message),
            TensorIssue::NonFinite { index, value } => OnnxError::NonFinite {
                node: ctx.label.clone(),
                op: ctx.op.clone(),
                tensor: tensor.to_string(),
                index,
                value,
            },
        }
    }
}

const FLOAT: i32 = 1;
const INT32: i32 = 6;
const INT64: i32 = 7;
const DOUBLE: i32 = 11;

/// The name of an ONNX `TensorProto.DataType` value, for messages.
pub(crate) fn data_type_name(code: i32) -> String {
    super::proto::tensor_proto::DataType::try_from(code)
        .map(|t| t.as_str_name().to_string())
        .unwrap_or_else(|_| format!("unknown data type {code}"))
}

/// Product of dimensions, `None` on overflow.
pub(crate) fn checked_product(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// Decodes an initializer or a `Constant` value: FLOAT, DOUBLE, INT32 or INT64, from
/// `raw_data` (little-endian) or the typed fields. External data must have been read into
/// `raw_data` already ([`super::external::inline_external_data`]); float values must be
/// finite.
pub(crate) fn decode_tensor(t: &TensorProto, name: &str) -> Result<Constant, TensorIssue> {
    if super::external::is_external(t) {
        return Err(TensorIssue::External);
    }
    if t.segment.is_some() {
        return Err(TensorIssue::Bad(
            "segmented tensors are not supported".to_string(),
        ));
    }
    let mut dims = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        let d = usize::try_from(d)
            .map_err(|_| TensorIssue::Bad(format!("negative dimension {d} in {:?}", t.dims)))?;
        dims.push(d);
    }
    let n = checked_product(&dims)
        .filter(|&n| n <= MAX_DENSE_ENTRIES)
        .ok_or_else(|| {
            TensorIssue::Bad(format!(
                "dimensions {:?} are too large (more than {MAX_DENSE_ENTRIES} entries)",
                t.dims
            ))
        })?;
    let code = t.data_type.unwrap_or(0);
    let raw = t.raw_data.as_deref().filter(|r| !r.is_empty());
    let width = match code {
        FLOAT | INT32 => 4,
        DOUBLE | INT64 => 8,
        _ => {
            return Err(TensorIssue::Bad(format!(
                "data type {} is not supported (FLOAT, DOUBLE, INT32 and INT64 are)",
                data_type_name(code)
            )));
        }
    };
    let typed_len = match code {
        FLOAT => t.float_data.len(),
        DOUBLE => t.double_data.len(),
        INT32 => t.int32_data.len(),
        _ => t.int64_data.len(),
    };
    if let Some(raw) = raw {
        let expected = n.saturating_mul(width);
        if raw.len() != expected {
            return Err(TensorIssue::Bad(format!(
                "raw_data has {} bytes but shape {:?} of {} needs {n} x {width} = {expected}",
                raw.len(),
                dims,
                data_type_name(code)
            )));
        }
    } else if typed_len != n {
        return Err(TensorIssue::Bad(format!(
            "shape {:?} has {n} entries but the tensor holds {typed_len} values{}",
            dims,
            if typed_len == 0 {
                " (no raw_data and no typed data)"
            } else {
                ""
            }
        )));
    }
    let (data, ints): (Vec<f64>, Option<Vec<i64>>) = match (code, raw) {
        (FLOAT, Some(raw)) => (
            raw.chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
            None,
        ),
        (FLOAT, None) => (t.float_data.iter().map(|&v| f64::from(v)).collect(), None),
        (DOUBLE, Some(raw)) => (
            raw.chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
            None,
        ),
        (DOUBLE, None) => (t.double_data.clone(), None),
        (INT32, Some(raw)) => {
            let v: Vec<i64> = raw
                .chunks_exact(4)
                .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect();
            (v.iter().map(|&x| x as f64).collect(), Some(v))
        }
        (INT32, None) => {
            let v: Vec<i64> = t.int32_data.iter().map(|&x| i64::from(x)).collect();
            (v.iter().map(|&x| x as f64).collect(), Some(v))
        }
        (_, Some(raw)) => {
            let v: Vec<i64> = raw
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect();
            (v.iter().map(|&x| x as f64).collect(), Some(v))
        }
        (_, None) => (
            t.int64_data.iter().map(|&x| x as f64).collect(),
            Some(t.int64_data.clone()),
        ),
    };
    if let Some((index, &value)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(TensorIssue::NonFinite { index, value });
    }
    Ok(Constant {
        name: name.to_string(),
        dims,
        data,
        ints,
    })
}

/// The value of a `Constant` node: `value` (a tensor), `value_float(s)` or `value_int(s)`.
pub(crate) fn constant_node_value(
    ctx: &NodeCtx,
    node: &NodeProto,
    output: &str,
) -> Result<Constant, OnnxError> {
    for a in &node.attribute {
        match a.name() {
            "value" => {
                let t = a
                    .t
                    .as_ref()
                    .ok_or_else(|| ctx.attribute("value", "(no tensor)", "expected a tensor"))?;
                let name = if t.name().is_empty() {
                    output
                } else {
                    t.name()
                };
                return decode_tensor(t, name).map_err(|e| e.into_error(ctx, name));
            }
            "value_float" => {
                let v = a.f.ok_or_else(|| {
                    ctx.attribute("value_float", "(no float)", "expected a float")
                })?;
                return scalar_or_vector(ctx, output, vec![f64::from(v)], None, false);
            }
            "value_floats" => {
                let v = a.floats.iter().map(|&x| f64::from(x)).collect();
                return scalar_or_vector(ctx, output, v, None, true);
            }
            "value_int" => {
                let v = a
                    .i
                    .ok_or_else(|| ctx.attribute("value_int", "(no int)", "expected an integer"))?;
                return scalar_or_vector(ctx, output, vec![v as f64], Some(vec![v]), false);
            }
            "value_ints" => {
                let v = a.ints.clone();
                let data = v.iter().map(|&x| x as f64).collect();
                return scalar_or_vector(ctx, output, data, Some(v), true);
            }
            other @ ("sparse_value" | "value_string" | "value_strings") => {
                let name = match other {
                    "sparse_value" => "sparse_value",
                    "value_string" => "value_string",
                    _ => "value_strings",
                };
                return Err(ctx.attribute(
                    name,
                    "(set)",
                    "only numeric dense constants are supported",
                ));
            }
            _ => {}
        }
    }
    Err(ctx.attribute(
        "value",
        "(missing)",
        "a Constant node needs a value, value_float(s) or value_int(s) attribute",
    ))
}

fn scalar_or_vector(
    ctx: &NodeCtx,
    name: &str,
    data: Vec<f64>,
    ints: Option<Vec<i64>>,
    vector: bool,
) -> Result<Constant, OnnxError> {
    if let Some((index, &value)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(TensorIssue::NonFinite { index, value }.into_error(ctx, name));
    }
    Ok(Constant {
        name: name.to_string(),
        dims: if vector { vec![data.len()] } else { vec![] },
        data,
        ints,
    })
}

fn find_attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name() == name)
}

/// An integer attribute, or `default` when absent.
pub(crate) fn attr_int(
    ctx: &NodeCtx,
    node: &NodeProto,
    name: &'static str,
    default: i64,
) -> Result<i64, OnnxError> {
    match find_attr(node, name) {
        None => Ok(default),
        Some(a) => {
            a.i.ok_or_else(|| ctx.attribute(name, "(not an integer)", "expected an integer"))
        }
    }
}

/// A float attribute, or `default` when absent; must be finite.
pub(crate) fn attr_float(
    ctx: &NodeCtx,
    node: &NodeProto,
    name: &'static str,
    default: f64,
) -> Result<f64, OnnxError> {
    let v = match find_attr(node, name) {
        None => default,
        Some(a) => match (a.f, a.i) {
            (Some(f), _) => f64::from(f),
            (None, Some(i)) => i as f64,
            (None, None) => return Err(ctx.attribute(name, "(not a float)", "expected a float")),
        },
    };
    if !v.is_finite() {
        return Err(ctx.attribute(name, v, "must be finite"));
    }
    Ok(v)
}

/// An integer-list attribute, or `None` when absent.
pub(crate) fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    find_attr(node, name).map(|a| a.ints.clone())
}

/// A string attribute, or `default` when absent.
pub(crate) fn attr_string(node: &NodeProto, name: &str, default: &str) -> String {
    match find_attr(node, name).and_then(|a| a.s.as_deref()) {
        Some(s) => String::from_utf8_lossy(s).into_owned(),
        None => default.to_string(),
    }
}

/// The numpy broadcast of two shapes, `None` when they do not broadcast.
pub(crate) fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let r = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| -> usize {
        // Dimension `i` of `s` right-aligned in rank `r`.
        if i + s.len() >= r {
            s.get(i + s.len() - r).copied().unwrap_or(1)
        } else {
            1
        }
    };
    (0..r)
        .map(|i| {
            let (da, db) = (dim(a, i), dim(b, i));
            if da == db || db == 1 {
                Some(da)
            } else if da == 1 {
                Some(db)
            } else {
                None
            }
        })
        .collect()
}

/// The values of `c` broadcast (unidirectionally) to `target`, flattened row-major;
/// `None` when `c`'s shape does not broadcast to `target`.
pub(crate) fn broadcast_values(c: &Constant, target: &[usize]) -> Option<Vec<f64>> {
    let r = target.len();
    let rc = c.dims.len();
    if rc > r {
        // Leading dimensions of size 1 may be dropped.
        let extra = rc - r;
        if c.dims.get(..extra)?.iter().any(|&d| d != 1) {
            return None;
        }
        let trimmed = Constant {
            name: c.name.clone(),
            dims: c.dims.get(extra..)?.to_vec(),
            data: c.data.clone(),
            ints: None,
        };
        return broadcast_values(&trimmed, target);
    }
    let mut strides = vec![0usize; r];
    let mut stride = 1usize;
    for j in (0..r).rev() {
        let t = *target.get(j)?;
        let cd = if j >= r - rc {
            *c.dims.get(j - (r - rc))?
        } else {
            1
        };
        if cd == t {
            strides[j] = if cd == 1 { 0 } else { stride };
        } else if cd != 1 {
            return None;
        }
        stride = stride.checked_mul(cd)?;
    }
    let n = checked_product(target)?;
    let mut out = Vec::with_capacity(n);
    let mut index = vec![0usize; r];
    let mut offset = 0usize;
    for _ in 0..n {
        out.push(*c.data.get(offset)?);
        for j in (0..r).rev() {
            index[j] += 1;
            offset += strides[j];
            if index[j] < target[j] {
                break;
            }
            offset -= strides[j] * target[j];
            index[j] = 0;
        }
    }
    Some(out)
}

/// A shape for messages: `[1, 784]`.
pub(crate) fn fmt_shape(shape: &[usize]) -> String {
    format!("{shape:?}")
}
