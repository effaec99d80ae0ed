//! Activation patterns, bit-packed.
//!
//! Bit `k` is neuron `k` in the network's layer-by-layer numbering
//! ([`crate::Network::neuron`]); it is set when the neuron is active (`z > 0`).

use std::fmt;

/// Which neurons are active, one bit per ReLU neuron. Hashable and totally ordered, so
/// patterns can key hash sets (distinct regions among samples) and be sorted.
#[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ActivationPattern {
    words: Vec<u64>,
    len: usize,
}

impl Clone for ActivationPattern {
    fn clone(&self) -> Self {
        Self {
            words: self.words.clone(),
            len: self.len,
        }
    }

    /// Reuses `self`'s buffer.
    fn clone_from(&mut self, other: &Self) {
        self.words.clone_from(&other.words);
        self.len = other.len;
    }
}

impl ActivationPattern {
    /// A pattern of `len` neurons, all inactive.
    pub fn inactive(len: usize) -> Self {
        Self {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// A pattern from the neurons' states in order (`true` = active).
    pub fn from_signs(active: impl IntoIterator<Item = bool>) -> Self {
        let mut words = Vec::new();
        let mut len = 0;
        for a in active {
            if len % 64 == 0 {
                words.push(0);
            }
            if a {
                words[len / 64] |= 1 << (len % 64);
            }
            len += 1;
        }
        Self { words, len }
    }

    /// Number of neurons recorded.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the pattern records no neuron (a network without ReLUs).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether neuron `k` is active. `None` past the end.
    pub fn get(&self, k: usize) -> Option<bool> {
        (k < self.len).then(|| self.words[k / 64] >> (k % 64) & 1 == 1)
    }

    /// Sets neuron `k`'s state.
    ///
    /// # Panics
    /// When `k >= len`.
    pub fn set(&mut self, k: usize, active: bool) {
        assert!(k < self.len, "neuron {k} out of a pattern of {}", self.len);
        if active {
            self.words[k / 64] |= 1 << (k % 64);
        } else {
            self.words[k / 64] &= !(1 << (k % 64));
        }
    }

    /// Number of active neurons.
    pub fn count_active(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Number of active neurons in each block of `widths` consecutive neurons (per layer).
    pub fn count_active_per_layer(&self, widths: &[usize]) -> Vec<usize> {
        let mut start = 0;
        widths
            .iter()
            .map(|&w| {
                let n = (start..start + w)
                    .filter(|&k| self.get(k) == Some(true))
                    .count();
                start += w;
                n
            })
            .collect()
    }

    /// Number of neurons whose state differs (both patterns must have one length).
    pub fn hamming(&self, other: &Self) -> Option<usize> {
        (self.len == other.len).then(|| {
            self.words
                .iter()
                .zip(&other.words)
                .map(|(a, b)| (a ^ b).count_ones() as usize)
                .sum()
        })
    }

    /// Iterator over the states, neuron 0 first.
    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len).map(|k| self.words[k / 64] >> (k % 64) & 1 == 1)
    }

    /// A 64-bit FNV-1a digest of the pattern, for compact display and quick comparison
    /// across runs (not a cryptographic hash; equal patterns give equal digests).
    pub fn digest(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in (self.len as u64)
            .to_le_bytes()
            .into_iter()
            .chain(self.words.iter().flat_map(|w| w.to_le_bytes()))
        {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }
}

/// The pattern as a string of `0`/`1`, neuron 0 first.
impl fmt::Display for ActivationPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for a in self.iter() {
            f.write_str(if a { "1" } else { "0" })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn bits_round_trip(bits in proptest::collection::vec(any::<bool>(), 0..300)) {
            let p = ActivationPattern::from_signs(bits.iter().copied());
            prop_assert_eq!(p.len(), bits.len());
            prop_assert_eq!(p.iter().collect::<Vec<_>>(), bits.clone());
            prop_assert_eq!(p.count_active(), bits.iter().filter(|&&b| b).count());
            let s: String = bits.iter().map(|&b| if b { '1' } else { '0' }).collect();
            prop_assert_eq!(p.to_string(), s);
        }

        #[test]
        fn set_and_hamming(bits in proptest::collection::vec(any::<bool>(), 1..200), k in 0usize..200) {
            let p = ActivationPattern::from_signs(bits.iter().copied());
            let k = k % bits.len();
            let mut q = p.clone();
            q.set(k, !bits[k]);
            prop_assert_eq!(p.hamming(&q), Some(1));
            prop_assert_ne!(&p, &q);
            prop_assert_ne!(p.digest(), q.digest());
            q.set(k, bits[k]);
            prop_assert_eq!(&p, &q);
        }
    }

    #[test]
    fn lengths_distinguish_patterns() {
        let a = ActivationPattern::from_signs([false; 3]);
        let b = ActivationPattern::from_signs([false; 4]);
        assert_ne!(a, b);
        assert_eq!(a.hamming(&b), None);
        assert_eq!(
            ActivationPattern::from_signs([true, false, true, true])
                .count_active_per_layer(&[1, 3]),
            vec![1, 2]
        );
    }
}
