//! Tensors whose data lives in files beside the model (ONNX "external data").
//!
//! A tensor with `data_location = EXTERNAL` carries key-value pairs instead of data:
//! `location` (a path relative to the model's folder, required), `offset` (bytes into that
//! file, default 0), `length` (bytes, default: to the end of the file) and `checksum`
//! (ignored). This is how `onnx.save_model(..., save_as_external_data=True)` writes large
//! models, and how PyTorch's default (dynamo) exporter writes every model: all
//! initializers in one file `model.onnx.data` next to `model.onnx`.
//!
//! [`inline_external_data`] reads each such tensor's bytes into its `raw_data`, so the
//! rest of the loader sees an ordinary tensor. The location must stay inside the model's
//! folder: absolute paths, `..` components and symbolic links that lead out of the
//! folder are refused; the file must be a regular file, the byte range must lie inside
//! it and hold exactly what the tensor's shape and type need, and only that range is
//! read.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use super::proto::{GraphProto, TensorProto};
use super::{MAX_DENSE_ENTRIES, OnnxError};

/// ONNX `TensorProto.DataLocation.EXTERNAL`.
const EXTERNAL: i32 = 1;

/// Whether a tensor keeps its data in an external file.
pub(crate) fn is_external(t: &TensorProto) -> bool {
    t.data_location == Some(EXTERNAL) || !t.external_data.is_empty()
}

/// Reads the data of every external tensor of `graph` (initializers and the tensors of
/// node attributes, such as a `Constant`'s `value`) from the files in `folder`, into
/// the tensors' `raw_data`. Only each tensor's byte range is read, after its size has
/// been checked against the tensor's shape and type, so a hostile model cannot make the
/// loader read more than its tensors hold.
pub(crate) fn inline_external_data(graph: &mut GraphProto, folder: &Path) -> Result<(), OnnxError> {
    let mut files = Files {
        folder,
        canonical_folder: None,
    };
    for t in graph.initializer.iter_mut() {
        if is_external(t) {
            files.inline(t)?;
        }
    }
    for node in graph.node.iter_mut() {
        for a in node.attribute.iter_mut() {
            for t in a.t.iter_mut().chain(a.tensors.iter_mut()) {
                if is_external(t) {
                    files.inline(t)?;
                }
            }
        }
    }
    Ok(())
}

/// The bytes a tensor of this shape and type holds, when the type is one the loader
/// reads (FLOAT, INT32: 4 bytes; DOUBLE, INT64: 8), capped at the loader's dense limit.
fn expected_bytes(t: &TensorProto) -> Option<u64> {
    let width: u64 = match t.data_type.unwrap_or(0) {
        1 | 6 => 4,
        7 | 11 => 8,
        _ => return None,
    };
    let mut n: u64 = 1;
    for &d in &t.dims {
        n = n.checked_mul(u64::try_from(d).ok()?)?;
    }
    (n <= MAX_DENSE_ENTRIES as u64).then(|| n * width)
}

struct Files<'a> {
    folder: &'a Path,
    canonical_folder: Option<PathBuf>,
}

impl Files<'_> {
    fn inline(&mut self, t: &mut TensorProto) -> Result<(), OnnxError> {
        let tensor = t.name().to_string();
        let fail = |message: String| OnnxError::ExternalData {
            tensor: tensor.clone(),
            message,
        };
        let mut location = None;
        let mut offset = 0u64;
        let mut length = None;
        for entry in &t.external_data {
            let value = entry.value();
            let number = |what: &str| {
                value.parse::<u64>().map_err(|_| {
                    fail(format!(
                        "{what} `{value}` is not a nonnegative number of bytes"
                    ))
                })
            };
            match entry.key() {
                "location" => location = Some(value.to_string()),
                "offset" => offset = number("offset")?,
                "length" => length = Some(number("length")?),
                _ => {}
            }
        }
        let location = location.ok_or_else(|| fail("no `location` key".into()))?;
        let path = self.resolve(&location).map_err(&fail)?;
        let meta = std::fs::metadata(&path)
            .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(fail(format!("{} is not a regular file", path.display())));
        }
        let size = meta.len();
        if offset > size {
            return Err(fail(format!(
                "offset {offset} lies beyond the end of {} ({size} bytes)",
                path.display()
            )));
        }
        let length = length.unwrap_or(size - offset);
        match offset.checked_add(length) {
            Some(end) if end <= size => {}
            _ => {
                return Err(fail(format!(
                    "{length} bytes from offset {offset} run beyond the end of {} ({size} bytes)",
                    path.display()
                )));
            }
        }
        let Some(expected) = expected_bytes(t) else {
            return Err(fail(format!(
                "shape {:?} of data type {} cannot be read (FLOAT, DOUBLE, INT32 and INT64 tensors of at most {MAX_DENSE_ENTRIES} entries can)",
                t.dims,
                super::tensor::data_type_name(t.data_type.unwrap_or(0))
            )));
        };
        if length != expected {
            return Err(fail(format!(
                "{length} bytes from offset {offset} of {}, but shape {:?} of {} needs {expected}",
                path.display(),
                t.dims,
                super::tensor::data_type_name(t.data_type.unwrap_or(0))
            )));
        }
        let mut bytes = vec![0; length as usize];
        let mut file = std::fs::File::open(&path)
            .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
        t.raw_data = Some(bytes);
        t.external_data.clear();
        t.data_location = Some(0);
        Ok(())
    }

    /// The file a `location` names: a relative path without `..`, inside the folder even
    /// after following symbolic links.
    fn resolve(&mut self, location: &str) -> Result<PathBuf, String> {
        let relative = Path::new(location);
        if location.is_empty() {
            return Err("an empty `location`".into());
        }
        for c in relative.components() {
            match c {
                Component::Normal(_) | Component::CurDir => {}
                Component::ParentDir => {
                    return Err(format!(
                        "location `{location}` leaves the model's folder (`..`); external data must lie beside the model"
                    ));
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(format!(
                        "location `{location}` is an absolute path; external data must be given relative to the model's folder"
                    ));
                }
            }
        }
        let path = self.folder.join(relative);
        let canonical = path
            .canonicalize()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if self.canonical_folder.is_none() {
            self.canonical_folder = Some(self.folder.canonicalize().map_err(|e| {
                format!(
                    "cannot resolve the model's folder {}: {e}",
                    self.folder.display()
                )
            })?);
        }
        let folder = self.canonical_folder.as_ref().expect("set above");
        if !canonical.starts_with(folder) {
            return Err(format!(
                "location `{location}` resolves to {}, outside the model's folder {}",
                canonical.display(),
                folder.display()
            ));
        }
        Ok(canonical)
    }
}
