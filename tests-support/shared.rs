//! Test support shared by the crates' integration tests (included with `#[path]`).

use std::path::{Path, PathBuf};

/// `../shared/networks` next to the repository, or `None` (skip, with a note) when it is
/// absent. With `RELU_REGIONS_REQUIRE_SHARED=1` (as in CI) its absence fails the test.
#[allow(dead_code)]
pub fn shared_networks() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/networks");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("RELU_REGIONS_REQUIRE_SHARED").as_deref() != Ok("1"),
        "RELU_REGIONS_REQUIRE_SHARED=1 but {} does not exist",
        dir.display()
    );
    eprintln!(
        "note: {} not found; skipping the shared-network tests",
        dir.display()
    );
    None
}

/// The repository's bundled data directory.
#[allow(dead_code)]
pub fn bundled_data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(rel)
}
