//! Networks for the tests: model files loaded through `relu-regions-io`, and the seeded
//! random and degenerate networks of [`relu_regions::random`] (re-exported; see there for
//! exactly what each draws).

use std::path::Path;

use relu_regions::Network;
use relu_regions_io::{LoadOptions, load_model};

pub use relu_regions::random::{
    Init, degenerate_variant, random_architecture, random_network, random_small_architecture,
    seeded_network,
};

/// The canonical network of the model file at `path` (any format the loader knows, by
/// extension), with the default load options.
///
/// # Panics
/// When the file cannot be read or loaded.
pub fn load_network(path: &Path) -> Network {
    load_model(path, LoadOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .network
}
