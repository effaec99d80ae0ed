//! The study's data files: `metrics.csv`, `points_<set>.csv`, the checkpoints (float32
//! safetensors), and the model files of a `--checkpoints` directory.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use relu_regions::Network;
use relu_regions_study::StudyReport;

/// The tracked points of one set, one per row in the network's input units (a comment
/// line first); row `k` is point `k` of `metrics.csv`, ready for `--center-file F --row
/// K` and `--points F` of the other commands.
pub fn points_csv(set: &str, points: &faer::Mat<f64>) -> String {
    let mut s = format!(
        "# {set} points of the study, in the network's input units (after scaling); row k is point k of metrics.csv\n"
    );
    for i in 0..points.nrows() {
        let row: Vec<String> = (0..points.ncols())
            .map(|j| format!("{:?}", points[(i, j)]))
            .collect();
        let _ = writeln!(s, "{}", row.join(","));
    }
    s
}

/// The adversarial examples of the last checkpoint, one per row: the row of the clean
/// source in points_test.csv, then the example's coordinates.
pub fn adversarial_csv(adv: &relu_regions_study::track::AdversarialMetrics) -> String {
    let mut s = String::from(
        "# adversarial examples of the last checkpoint, in the network's input units (after scaling): source row in points_test.csv, then the example\n",
    );
    for (k, &src) in adv.sources.iter().enumerate() {
        let row: Vec<String> = (0..adv.points.ncols())
            .map(|j| format!("{:?}", adv.points[(k, j)]))
            .collect();
        let _ = writeln!(s, "{src},{}", row.join(","));
    }
    s
}

/// Every tracked value, one per row: `epoch,set,point,metric,radius,value` (radius empty for
/// the distance; an incomplete exact count empty).
pub fn metrics_csv(r: &StudyReport) -> String {
    let mut s = String::from("epoch,set,point,metric,radius,value\n");
    for cp in &r.checkpoints {
        for (set, m) in r.point_sets.iter().zip(&cp.sets) {
            for (i, d) in m.distance.iter().enumerate() {
                let _ = writeln!(s, "{},{set},{i},distance,,{d}", cp.epoch);
            }
            for (ri, radius) in r.config.radii.iter().enumerate() {
                for i in 0..m.distance.len() {
                    let _ = writeln!(
                        s,
                        "{e},{set},{i},bound_log2,{radius},{}\n{e},{set},{i},unstable,{radius},{}\n{e},{set},{i},lc,{radius},{}",
                        m.bound_log2[ri][i],
                        m.unstable[ri][i],
                        m.lc[ri][i],
                        e = cp.epoch
                    );
                    if let Some(v) = m.slice_regions.get(ri) {
                        let _ =
                            writeln!(s, "{},{set},{i},slice_regions,{radius},{}", cp.epoch, v[i]);
                    }
                    if let Some(v) = m.ball_regions.get(ri) {
                        // Empty when over budget; the lower bound is always there.
                        let value = v[i].map_or(String::new(), |c| c.to_string());
                        let _ = writeln!(
                            s,
                            "{e},{set},{i},ball_regions,{radius},{value}\n{e},{set},{i},ball_regions_at_least,{radius},{}",
                            m.ball_regions_at_least[ri][i],
                            e = cp.epoch
                        );
                    }
                }
            }
        }
    }
    s
}

/// Writes the networks of a trained study as `epoch_NNN.safetensors` in `dir` (float32,
/// PyTorch's nn.Sequential layout), after removing the `epoch_*.safetensors` of an earlier
/// run there (they would mix with this run's for `--checkpoints`).
pub fn write_checkpoints(networks: &[Network], dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("epoch_") && name.ends_with(".safetensors") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    for (epoch, net) in networks.iter().enumerate() {
        let path = dir.join(format!("epoch_{epoch:03}.safetensors"));
        relu_regions_io::write_safetensors(net, &path)?;
    }
    Ok(())
}

/// The model files of a directory in natural order of their names.
pub fn checkpoint_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| relu_regions_io::ModelFormat::from_path(p).is_some())
        .collect();
    // Natural order: compare runs of digits as numbers.
    let key = |p: &PathBuf| -> Vec<(String, u64)> {
        let name = p
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let mut out = Vec::new();
        let mut text = String::new();
        let mut num = String::new();
        for ch in name.chars() {
            if ch.is_ascii_digit() {
                num.push(ch);
            } else {
                if !num.is_empty() {
                    out.push((std::mem::take(&mut text), num.parse().unwrap_or(u64::MAX)));
                    num.clear();
                }
                text.push(ch);
            }
        }
        out.push((text, num.parse().unwrap_or(0)));
        out
    };
    files.sort_by_key(key);
    anyhow::ensure!(
        !files.is_empty(),
        "{}: no .onnx, .nnet or .safetensors files",
        dir.display()
    );
    Ok(files)
}
