//! The `relu-regions` binary, run as a user runs it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A runner for the `relu-regions` binary at a given path.
///
/// The path comes from the caller: while compiling the CLI crate's integration tests,
/// cargo (which builds the binary first) sets `CARGO_BIN_EXE_relu-regions` to the
/// binary's exact path, so those tests write
/// `CliRunner::new(env!("CARGO_BIN_EXE_relu-regions"))`. The variable exists only there
/// (never while compiling this crate), hence the argument. It is the robust choice over
/// guessing `target/<profile>/relu-regions` from the test executable's directory: cargo
/// documents the variable, not the layout of its output directories (a separate
/// `build.build-dir` puts test executables apart from the final binary), and the guess
/// would also have to know the platform's executable suffix.
#[derive(Debug, Clone)]
pub struct CliRunner {
    binary: PathBuf,
}

impl CliRunner {
    /// The binary at `binary` (see the type's documentation for where the path comes
    /// from).
    pub fn new(binary: impl Into<PathBuf>) -> Self {
        Self {
            binary: binary.into(),
        }
    }

    /// The binary's path.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// A command for the binary, without arguments yet.
    pub fn command(&self) -> Command {
        Command::new(&self.binary)
    }

    /// Runs the binary with `args` to completion and returns its exit status, stdout and
    /// stderr (whether it succeeded or not).
    ///
    /// # Panics
    /// When the binary cannot be started.
    pub fn output<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command()
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", self.binary.display()))
    }

    /// Runs the binary with `args` (which should ask for `--json`), asserts that it
    /// succeeded (the failure message holds its stderr) and parses its stdout as JSON.
    pub fn run_json(&self, args: &[&str]) -> Value {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}
