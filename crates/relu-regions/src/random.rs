//! Random networks with the initialisations researchers use, for tests, benchmarks and
//! studies. Seeded and deterministic.

use faer::Mat;
use rand::{RngExt, SeedableRng, rngs::StdRng};

use crate::network::{Affine, Network};

/// How weights and biases are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// PyTorch's `nn.Linear` default: weights and biases uniform in
    /// `[-1/sqrt(fan_in), 1/sqrt(fan_in)]`.
    PytorchDefault,
    /// He (Kaiming) normal: weights `N(0, 2 / fan_in)`, biases `N(0, 1e-6)` (Hanin and
    /// Rolnick's protocol: tiny biases keep regions from collapsing).
    He,
}

/// A standard normal sample (Box-Muller).
pub fn standard_normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A random MLP with widths `[d, n_1, ..., n_L]` (input first), ReLU between layers.
///
/// # Panics
/// When `widths` has fewer than two entries or a zero width.
pub fn random_network(
    widths: &[usize],
    init: Init,
    output_relu: bool,
    rng: &mut StdRng,
) -> Network {
    assert!(widths.len() >= 2 && widths.iter().all(|&w| w > 0));
    let layers = widths
        .windows(2)
        .map(|w| {
            let (fan_in, out) = (w[0], w[1]);
            let (weight, bias) = match init {
                Init::PytorchDefault => {
                    let a = 1.0 / (fan_in as f64).sqrt();
                    (
                        Mat::from_fn(out, fan_in, |_, _| rng.random_range(-a..a)),
                        (0..out).map(|_| rng.random_range(-a..a)).collect(),
                    )
                }
                Init::He => {
                    let s = (2.0 / fan_in as f64).sqrt();
                    (
                        Mat::from_fn(out, fan_in, |_, _| s * standard_normal(rng)),
                        (0..out).map(|_| 1e-3 * standard_normal(rng)).collect(),
                    )
                }
            };
            Affine::new(weight, bias).expect("dimensions agree")
        })
        .collect();
    Network::new(layers, output_relu).expect("finite random parameters")
}

/// A seeded random MLP (see [`random_network`]).
pub fn seeded_network(widths: &[usize], init: Init, seed: u64) -> Network {
    random_network(widths, init, false, &mut StdRng::seed_from_u64(seed))
}

/// A random MLP of random architecture, for tests over many shapes of network.
///
/// Draws, in this order: the number of hidden layers `L` uniform in `1..=4`; the input
/// dimension uniform in `1..=12`; `L` hidden widths, each uniform in `1..=12`; the output
/// dimension uniform in `1..=4`; a ReLU after the output layer with probability 1/5; then
/// the parameters with `init` (see [`random_network`]).
pub fn random_architecture(rng: &mut StdRng, init: Init) -> Network {
    let depth = rng.random_range(1..=4);
    let mut widths = vec![rng.random_range(1..=12)];
    for _ in 0..depth {
        widths.push(rng.random_range(1..=12));
    }
    widths.push(rng.random_range(1..=4));
    let output_relu = rng.random_range(0..5) == 0;
    random_network(&widths, init, output_relu, rng)
}

/// A small random MLP of random architecture (small enough for exact region counts).
///
/// Draws, in this order: the number of hidden layers `L` uniform in `1..=4`; the input
/// dimension uniform in `2..=4`; `L` hidden widths, each uniform in `3..=20`; the output
/// dimension uniform in `1..=3`; a ReLU after the output layer with probability 1/6; then
/// the parameters with `init` (see [`random_network`]).
pub fn random_small_architecture(rng: &mut StdRng, init: Init) -> Network {
    let depth = rng.random_range(1..=4);
    let mut widths = vec![rng.random_range(2..=4)];
    for _ in 0..depth {
        widths.push(rng.random_range(3..=20));
    }
    widths.push(rng.random_range(1..=3));
    let output_relu = rng.random_range(0..6) == 0;
    random_network(&widths, init, output_relu, rng)
}

/// A degenerate variant of `net`, for tests of the special cases: in every ReLU layer,
/// each neuron `i` in turn draws one of six equally likely cases (uniform in `0..6`):
/// - 0 (layers of two or more neurons): a duplicate of neuron `src` (uniform in the
///   layer): the same incoming row and bias, so the same hyperplane on the same side;
/// - 1: dead: a zero row and bias `-1` (never active);
/// - 2 (layers of two or more neurons): the negated copy of neuron `src` (uniform in the
///   layer): the same hyperplane, the opposite side;
/// - otherwise (and for 0 and 2 in one-neuron layers): unchanged.
///
/// Rows are copied from the layer as modified so far. Only the layers followed by a ReLU
/// change (all but the output layer, or every layer when `net` has an output ReLU); the
/// architecture and the output ReLU flag stay those of `net`.
pub fn degenerate_variant(net: &Network, rng: &mut StdRng) -> Network {
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
    Network::new(layers, net.output_relu())
        .and_then(|n| n.with_negative_slopes(net.all_negative_slopes().to_vec()))
        .expect("finite")
}

/// `net` with leaky ReLUs: per activated layer, at random, ReLU kept (slope 0), one slope
/// for the layer from `{0.01, 0.1, 0.5, 1}`, or a slope per neuron uniform in `[0, 1]`
/// with some exact zeros (PReLU-like). The weights are `net`'s.
pub fn leaky_variant(net: &Network, rng: &mut StdRng) -> Network {
    let slopes = net
        .relu_widths()
        .into_iter()
        .map(|w| match rng.random_range(0..4) {
            0 => Vec::new(),
            1 | 2 => vec![[0.01, 0.1, 0.5, 1.0][rng.random_range(0..4)]; w],
            _ => (0..w)
                .map(|_| {
                    if rng.random_bool(0.2) {
                        0.0
                    } else {
                        rng.random_range(0.0..=1.0)
                    }
                })
                .collect(),
        })
        .collect();
    net.clone()
        .with_negative_slopes(slopes)
        .expect("slopes in [0, 1], one per neuron")
}
