//! # relu-regions-testkit: what the integration tests share
//!
//! A dev-dependency of `relu-regions-io` and `relu-regions-cli` (never published). Each
//! of those crates has one integration-test binary, `tests/integration/main.rs`, whose
//! modules take their helpers from here instead of copying them:
//!
//! - [`data`]: the repository's bundled `data/`, the optional `../shared` beside the
//!   repository (mandatory under `RELU_REGIONS_REQUIRE_SHARED=1`, as in CI), recursive
//!   file listings and per-process temporary directories;
//! - [`cli`]: [`CliRunner`], the `relu-regions` binary run as a user runs it (its path
//!   comes from the caller, see [`CliRunner`]);
//! - [`networks`]: loading a model file through `relu-regions-io`, and the seeded random
//!   and degenerate networks of [`relu_regions::random`], re-exported;
//! - [`reference`](mod@reference): `MODEL.reference.jsonl` files (onnxruntime or original-tool outputs);
//! - [`partition`]: the invariants every exact 2-D partition must satisfy;
//! - [`lcg`]: a tiny deterministic pseudo-random stream for test points.
//!
//! The unit tests inside `relu-regions` cannot use this crate (it depends on
//! `relu-regions`, so a dev-dependency would give them a second copy of every type);
//! they draw their networks from [`relu_regions::random`] directly.

pub mod cli;
pub mod data;
pub mod lcg;
pub mod networks;
pub mod partition;
pub mod reference;

pub use cli::CliRunner;
pub use data::{
    bundled_data, files_with_extension, repository_root, shared_mnist_images, shared_networks,
    shared_networks_dir, temp_dir,
};
pub use lcg::Lcg;
pub use networks::load_network;
pub use partition::check_plane_partition;
pub use reference::{ReferencePoint, reference_points};
