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
