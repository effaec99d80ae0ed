//! Runtime dispatch to the widest vector instructions the CPU has.
//!
//! The crate is built for the x86-64 baseline (SSE2), so that one binary runs everywhere.
//! [`vectorized`] runs a kernel (a [`WithSimd`] type whose `with_simd` is
//! `#[inline(always)]`; a closure is not reliably inlined) inside a function compiled for AVX2 and FMA (x86-64-v3)
//! when the CPU has them (detected once, by [`pulp`]), so the compiler's auto-vectoriser
//! uses 256-bit registers for the kernel's loops. Unless a kernel asks for fused
//! multiply-adds itself (`f64::mul_add` where `!S::IS_SCALAR`; its documentation says so),
//! the results are bit for bit those of the baseline build: Rust never contracts
//! `a * b + c` into a fused multiply-add nor reassociates floating-point sums, so only the
//! register width changes.

use std::sync::OnceLock;

use pulp::WithSimd;

/// Runs `kernel` compiled for the best instruction set of this CPU (module documentation).
#[inline(always)]
pub(crate) fn vectorized<K: WithSimd>(kernel: K) -> K::Output {
    static ARCH: OnceLock<pulp::Arch> = OnceLock::new();
    ARCH.get_or_init(pulp::Arch::new).dispatch(kernel)
}
