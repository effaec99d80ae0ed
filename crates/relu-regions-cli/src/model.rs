//! Model and point arguments shared by the subcommands.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use relu_regions::{Domain, Norm};
use relu_regions_io::points::parse_point_list;
use relu_regions_io::{parse_vnnlib_box, read_points_file};

use crate::output::NormArg;

use relu_regions_io::{LoadOptions, LoadedModel, load_model};

/// The model file and how to read it.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Model file: .onnx, .nnet or .safetensors (PyTorch nn.Sequential of Linear layers).
    pub model: PathBuf,
    /// For .nnet files: fold the file's input normalisation (x - mean) / range into the
    /// first layer, so that inputs are in raw units. Default: normalised coordinates, as
    /// in VNN-LIB specifications.
    #[arg(long)]
    pub nnet_raw_inputs: bool,
    /// For .safetensors files, which hold weights only: the activation after every layer
    /// but the last, `relu` (assumed when absent, with a note) or `leaky_relu:ALPHA`
    /// (PyTorch's LeakyReLU(negative_slope=ALPHA), ALPHA in [0, 1], used as given in f64;
    /// PyTorch computes a float32 model with ALPHA rounded to float32). ONNX files name
    /// their own activations (Relu, LeakyRelu, PRelu).
    #[arg(long, value_name = "relu|leaky_relu:ALPHA")]
    pub activation: Option<relu_regions_io::Activation>,
}

impl ModelArgs {
    /// The model; what the loader assumed is printed to stderr as notes.
    pub fn load(&self) -> Result<LoadedModel> {
        let loaded = load_model(
            &self.model,
            LoadOptions {
                nnet_raw_inputs: self.nnet_raw_inputs,
                activation: self.activation,
            },
        )
        .with_context(|| format!("loading model {}", self.model.display()))?;
        for a in &loaded.assumptions {
            eprintln!("note: {}: {a}", self.model.display());
        }
        Ok(loaded)
    }
}

/// Where the points come from and how to preprocess them.
#[derive(Debug, clap::Args)]
pub struct PointArgs {
    /// Points file: CSV (one point a row, no header) or JSON (a list of lists).
    #[arg(long, required_unless_present = "point")]
    pub points: Option<PathBuf>,
    /// One point as a comma-separated list (repeatable), instead of or besides --points.
    #[arg(long, allow_hyphen_values = true)]
    pub point: Vec<String>,
    /// Drop this many leading columns of every row of --points (e.g. 1 for `label,pixels...`).
    #[arg(long, default_value_t = 0)]
    pub skip_columns: usize,
    /// Multiply every coordinate by this factor after reading (e.g. 0.00392156862745098 = 1/255
    /// for 0-255 pixels).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub scale: f64,
}

/// The points of a file; what the user should know about how it was read (a skipped
/// header line) goes to stderr as a note.
fn read_points_noted(path: &Path) -> Result<Vec<Vec<f64>>> {
    let file = read_points_file(path)?;
    for note in &file.notes {
        eprintln!("note: {note}");
    }
    Ok(file.points)
}

impl PointArgs {
    /// The points, each checked to have `dim` coordinates.
    pub fn read(&self, dim: usize) -> Result<Vec<Vec<f64>>> {
        let mut points = Vec::new();
        if let Some(path) = &self.points {
            let rows = read_points_noted(path)?;
            for (i, row) in rows.into_iter().enumerate() {
                if row.len() < self.skip_columns {
                    bail!(
                        "{}: point {} has {} values, fewer than --skip-columns {}",
                        path.display(),
                        i + 1,
                        row.len(),
                        self.skip_columns
                    );
                }
                points.push(row[self.skip_columns..].to_vec());
            }
            check_dims(&points, dim, path)?;
        }
        for (i, text) in self.point.iter().enumerate() {
            let p = relu_regions_io::points::parse_point_list(text)
                .map_err(|e| anyhow::anyhow!("--point number {}: {e}", i + 1))?;
            if p.len() != dim {
                bail!(
                    "--point number {} has {} coordinates but the network takes {dim}",
                    i + 1,
                    p.len()
                );
            }
            points.push(p);
        }
        if self.scale != 1.0 {
            if !self.scale.is_finite() {
                bail!("--scale must be finite, got {}", self.scale);
            }
            points.iter_mut().flatten().for_each(|v| *v *= self.scale);
        }
        Ok(points)
    }
}

fn check_dims(points: &[Vec<f64>], dim: usize, path: &Path) -> Result<()> {
    if let Some(p) = points.first()
        && p.len() != dim
    {
        bail!(
            "{}: points have {} coordinates but the network takes {dim} (use --skip-columns to drop leading label columns)",
            path.display(),
            p.len()
        );
    }
    Ok(())
}

/// One point given on the command line as a comma-separated list, checked to have `dim`
/// coordinates; `what` names the argument in errors.
pub fn parse_point(what: &str, text: &str, dim: usize) -> Result<Vec<f64>> {
    let p = parse_point_list(text).map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
    if p.len() != dim {
        bail!(
            "{what} has {} coordinates but the network takes {dim}",
            p.len()
        );
    }
    if let Some((j, v)) = p.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        bail!("{what}: coordinate {j} is {v}, not a finite number");
    }
    Ok(p)
}

/// The rows of a points file.
pub type Points = Vec<Vec<f64>>;

/// A centre point: on the command line, or a row of a points file.
#[derive(Debug, clap::Args)]
pub struct CenterArgs {
    /// The centre as a comma-separated list (input units).
    #[arg(long, allow_hyphen_values = true, conflicts_with = "center_file")]
    pub center: Option<String>,
    /// Read the centre from a points file (CSV or JSON), row --row.
    #[arg(long, requires = "row")]
    pub center_file: Option<PathBuf>,
    /// Row of --center-file (0-based).
    #[arg(long)]
    pub row: Option<usize>,
    /// Drop this many leading columns of --center-file rows (e.g. 1 for a label).
    #[arg(long, default_value_t = 0)]
    pub skip_columns: usize,
    /// Multiply --center-file rows by this factor (e.g. 0.00392156862745098 = 1/255 for
    /// 0-255 pixels).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub scale: f64,
}

impl CenterArgs {
    /// The rows of --center-file and its path, when given.
    pub fn file_rows(&self) -> Result<Option<(Points, &Path)>> {
        match &self.center_file {
            Some(path) => Ok(Some((read_points_noted(path)?, path.as_path()))),
            None => Ok(None),
        }
    }

    /// Row `k` of the points file, with the label columns dropped and the scale applied,
    /// checked to have `dim` coordinates.
    pub fn file_row(
        &self,
        rows: &[Vec<f64>],
        path: &Path,
        k: usize,
        dim: usize,
    ) -> Result<Vec<f64>> {
        let Some(row) = rows.get(k) else {
            bail!(
                "{}: row {k} does not exist ({} rows)",
                path.display(),
                rows.len()
            );
        };
        if row.len() < self.skip_columns {
            bail!(
                "{}: row {k} has fewer than {} columns",
                path.display(),
                self.skip_columns
            );
        }
        if !self.scale.is_finite() {
            bail!("--scale must be finite, got {}", self.scale);
        }
        let x: Vec<f64> = row[self.skip_columns..]
            .iter()
            .map(|v| v * self.scale)
            .collect();
        if x.len() != dim {
            bail!(
                "{}: row {k} has {} coordinates but the network takes {dim} (use --skip-columns to drop labels)",
                path.display(),
                x.len()
            );
        }
        Ok(x)
    }

    /// The centre, `dim` coordinates, and a short description of where it came from;
    /// `None` when neither --center nor --center-file was given.
    pub fn center(&self, dim: usize) -> Result<Option<(Vec<f64>, String)>> {
        if let Some(text) = &self.center {
            let c = parse_point("--center", text, dim)?;
            let shown: Vec<String> = c.iter().take(5).map(|v| format!("{v}")).collect();
            let more = if c.len() > 5 { ", ..." } else { "" };
            return Ok(Some((c, format!("({}{more})", shown.join(", ")))));
        }
        let Some((rows, path)) = self.file_rows()? else {
            return Ok(None);
        };
        let k = self.row.expect("clap requires --row with --center-file");
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        Ok(Some((
            self.file_row(&rows, path, k, dim)?,
            format!("row {k} of {name}"),
        )))
    }
}

/// Checks `--radius` by the rule every command shares: a positive, finite number.
pub fn positive_radius(radius: f64) -> Result<f64> {
    if radius.is_finite() && radius > 0.0 {
        Ok(radius)
    } else {
        bail!("--radius must be a positive number (input units), not {radius}")
    }
}

/// Checks `--time-limit`: a nonnegative, finite number of seconds.
pub fn time_limit(seconds: Option<f64>) -> Result<Option<std::time::Duration>> {
    match seconds {
        Some(s) if !(s.is_finite() && s >= 0.0) => {
            bail!("--time-limit must be a nonnegative number of seconds, not {s}")
        }
        Some(s) => std::time::Duration::try_from_secs_f64(s)
            .map(Some)
            .map_err(|_| anyhow::anyhow!("--time-limit {s} is too long to represent")),
        None => Ok(None),
    }
}

/// A ball (centre and radius) or the input box of a VNN-LIB file.
#[derive(Debug, clap::Args)]
pub struct DomainArgs {
    #[command(flatten)]
    center: CenterArgs,
    /// Ball radius (input units), positive.
    #[arg(long, allow_negative_numbers = true)]
    radius: Option<f64>,
    /// Ball norm.
    #[arg(long, value_enum, default_value_t = NormArg::L2)]
    norm: NormArg,
    /// Use the input box of a VNN-LIB specification as the domain.
    #[arg(long, conflicts_with_all = ["center", "center_file"])]
    vnnlib: Option<PathBuf>,
}

impl DomainArgs {
    /// The domain and a description of it.
    pub fn domain(&self, dim: usize) -> Result<(Domain, String)> {
        if let Some(path) = &self.vnnlib {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let b = parse_vnnlib_box(&text).with_context(|| format!("{}", path.display()))?;
            let domain = Domain::boxed(b.lo, b.hi)?;
            domain
                .check_dim(dim)
                .with_context(|| format!("{}", path.display()))?;
            return Ok((domain, format!("box of {}", path.display())));
        }
        let Some((center, _)) = self.center.center(dim)? else {
            bail!("give --center, --center-file with --row, or --vnnlib");
        };
        let Some(radius) = self.radius else {
            bail!("give --radius (the ball's radius, in input units) or --vnnlib");
        };
        let radius = positive_radius(radius)?;
        let norm: Norm = self.norm.into();
        let domain = Domain::ball(center, radius, norm)?;
        Ok((domain, format!("{} ball of radius {radius}", norm.name())))
    }
}
