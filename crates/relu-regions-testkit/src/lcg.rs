//! A deterministic pseudo-random stream for test points, independent of `rand`'s versions.

/// Knuth's MMIX linear congruential generator: `s <- 6364136223846793005 s +
/// 1442695040888963407 (mod 2^64)`; each draw advances the state once and uses its top 53
/// bits.
#[derive(Debug, Clone)]
pub struct Lcg(u64);

impl Lcg {
    /// The stream whose state starts at `seed` (the first draw advances it first).
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Uniform in `[0, 1)`: the new state's top 53 bits over `2^53`.
    pub fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal sample (Box-Muller on two uniform draws, the first kept away
    /// from 0).
    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}
