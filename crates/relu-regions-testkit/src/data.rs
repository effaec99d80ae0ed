//! Where the tests' files are: the bundled `data/`, the optional `../shared` beside the
//! repository, and temporary directories.
//!
//! Paths are resolved from this crate's own `CARGO_MANIFEST_DIR`
//! (`<repository>/crates/relu-regions-testkit`), so they are the same whichever crate's
//! tests call them.

use std::io::Write;
use std::path::{Path, PathBuf};

use relu_regions_io::read_points;

/// The environment variable that makes `../shared/networks` mandatory (CI sets it to `1`).
pub const REQUIRE_SHARED: &str = "RELU_REGIONS_REQUIRE_SHARED";

/// The repository's root directory: two levels above this crate's manifest.
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the kit lives at <repository>/crates/relu-regions-testkit")
        .to_path_buf()
}

/// `rel` inside the repository's bundled `data/` directory (`bundled_data("")` is the
/// directory itself).
pub fn bundled_data(rel: &str) -> PathBuf {
    repository_root().join("data").join(rel)
}

/// Where `../shared/networks` is expected: beside the repository (whether it exists or
/// not; see [`shared_networks`] for the tests' rule).
pub fn shared_networks_dir() -> PathBuf {
    repository_root().join("../shared/networks")
}

/// `../shared/networks` beside the repository, or `None` when it is absent: the calling
/// test then returns early (it is skipped) and a note says so on the terminal (written
/// past the test harness's output capture, so a skip is visible in `cargo test`'s output).
///
/// # Panics
/// With `RELU_REGIONS_REQUIRE_SHARED=1` (as in CI) when the directory is absent: there
/// the shared-network tests are mandatory and must fail, not skip.
pub fn shared_networks() -> Option<PathBuf> {
    let dir = shared_networks_dir();
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var(REQUIRE_SHARED).as_deref() != Ok("1"),
        "{REQUIRE_SHARED}=1 but {} does not exist",
        dir.display()
    );
    // `eprintln!` would be captured (and shown only on failure); write to stderr itself.
    let _ = writeln!(
        std::io::stderr(),
        "note: {} not found; skipping the shared-network tests",
        dir.display()
    );
    None
}

/// The first 100 MNIST test images of `shared` (`../shared/networks`, see
/// [`shared_networks`]): one row per image, the 784 pixels scaled to `[0, 1]` (the CSV's
/// first column, the label, dropped).
pub fn shared_mnist_images(shared: &Path) -> Vec<Vec<f64>> {
    read_points(&shared.join("mnist_test_images/mnist_test_first100.csv"))
        .unwrap()
        .iter()
        .map(|r| r[1..].iter().map(|v| v / 255.0).collect())
        .collect()
}

/// Every file under `dir` (recursively) whose extension is `ext`, in sorted order (the
/// entries of each directory sorted by path, depth first).
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect_files(dir, ext, &mut out);
    out
}

fn collect_files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// A fresh-named temporary directory, `<temp>/rr-<name>-<process id>`, created (with its
/// parents) if missing. Names must be unique within one test binary: its tests share the
/// process id.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rr-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_root_holds_the_workspace_and_the_bundled_data() {
        let root = repository_root();
        assert!(root.join("Cargo.toml").is_file(), "{}", root.display());
        let acas = bundled_data("networks/acasxu");
        let nnet = files_with_extension(&acas, "nnet");
        assert_eq!(
            nnet,
            [acas.join("ACASXU_run2a_1_1_batch_2000.nnet")],
            "{}",
            acas.display()
        );
    }
}
