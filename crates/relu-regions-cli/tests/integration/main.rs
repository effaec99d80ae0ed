//! The `relu-regions` binary and the library on real networks: one test binary (the
//! crate's only one), a module per theme. Helpers come from `relu-regions-testkit`.
//!
//! - [`commands`]: every command on the bundled ACAS Xu network: JSON keys, numbers that
//!   agree with the library, clear errors and failing exit codes on bad input;
//! - [`real_networks`]: distances, segments and bounds on ACAS Xu and (where
//!   `../shared/networks` exists) mnistfc, the VNN-COMP test nets and the RL policies;
//! - [`slice`]: exact 2-D slices, the `slice` command and the library's partition;
//! - [`stress`]: random valid and invalid arguments for every command and mutated model
//!   and points files (proptest): no panic, no hang, every refusal names its culprit;
//! - [`study`]: a tiny end-to-end training study and its report files;
//! - [`tasks`]: a count run as task files in waves (`--emit-tasks`, `--run-task`,
//!   `--merge`) merges to the single count.
//!
//! The shared-network tests skip with a note when `../shared/networks` is absent, and
//! fail instead when `RELU_REGIONS_REQUIRE_SHARED=1` (as in CI).

mod activations;
mod commands;
mod real_networks;
mod slice;
mod stress;
mod study;
mod tasks;

use relu_regions_testkit::CliRunner;

/// The `relu-regions` binary cargo built for these tests (its path is known only while
/// compiling this crate's integration tests; see [`CliRunner`]).
fn cli() -> CliRunner {
    CliRunner::new(env!("CARGO_BIN_EXE_relu-regions"))
}
