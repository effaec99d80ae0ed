//! Shared helpers of the unit tests.

use rand::{RngExt, rngs::StdRng};

use crate::network::Network;
use crate::random::{Init, random_network as random_mlp};

/// A random network of random architecture: input dimension 1 to 12, 1 to 4 hidden layers
/// of width 1 to 12; He or PyTorch-default initialisation.
pub fn random_network(rng: &mut StdRng, he: bool) -> Network {
    let depth = rng.random_range(1..=4);
    let mut widths = vec![rng.random_range(1..=12)];
    for _ in 0..depth {
        widths.push(rng.random_range(1..=12));
    }
    widths.push(rng.random_range(1..=4));
    let init = if he { Init::He } else { Init::PytorchDefault };
    let output_relu = rng.random_range(0..5) == 0;
    random_mlp(&widths, init, output_relu, rng)
}
