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

/// A degenerate variant of `net`: some neurons duplicated (same incoming row and bias as
/// another neuron of the layer), some rows zeroed, some neurons made dead (zero row,
/// negative bias), some rows negated copies (same hyperplane, opposite side).
pub fn degenerate(net: &Network, rng: &mut StdRng) -> Network {
    use crate::network::Affine;
    let mut layers: Vec<Affine> = net.layers().to_vec();
    let relu_layers = net.relu_layer_count();
    for layer in layers.iter_mut().take(relu_layers) {
        let w = layer.weight().to_owned();
        let mut b = layer.bias().to_vec();
        let (n, m) = (w.nrows(), w.ncols());
        let mut w = w;
        for i in 0..n {
            match rng.random_range(0..6) {
                0 if n > 1 => {
                    let src = rng.random_range(0..n);
                    for j in 0..m {
                        w[(i, j)] = w[(src, j)];
                    }
                    b[i] = b[src];
                }
                1 => {
                    for j in 0..m {
                        w[(i, j)] = 0.0;
                    }
                    b[i] = -1.0;
                }
                2 if n > 1 => {
                    let src = rng.random_range(0..n);
                    for j in 0..m {
                        w[(i, j)] = -w[(src, j)];
                    }
                    b[i] = -b[src];
                }
                _ => {}
            }
        }
        *layer = Affine::new(w, b).expect("same shape");
    }
    Network::new(layers, net.output_relu()).expect("finite")
}

/// A random small network for the bound suite: input dimension 2 to 4, 1 to 4 hidden
/// layers of width 3 to 20.
pub fn random_small_network(rng: &mut StdRng, he: bool) -> Network {
    let depth = rng.random_range(1..=4);
    let mut widths = vec![rng.random_range(2..=4)];
    for _ in 0..depth {
        widths.push(rng.random_range(3..=20));
    }
    widths.push(rng.random_range(1..=3));
    let init = if he { Init::He } else { Init::PytorchDefault };
    let output_relu = rng.random_range(0..6) == 0;
    random_mlp(&widths, init, output_relu, rng)
}
