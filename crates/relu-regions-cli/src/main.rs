//! `relu-regions`: the command line of the relu-regions library.
//!
//! One module per subcommand under `commands/`; this file only parses arguments and
//! dispatches. Every command prints a human-readable report, or JSON with `--json`.

mod commands;
mod model;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Local geometry of ReLU networks: activation regions around a point, their boundaries,
/// bounds and exact counts.
#[derive(Debug, Parser)]
#[command(name = "relu-regions", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe a model: format, input shape, layer widths, ReLUs, parameters, what was folded.
    Inspect(commands::inspect::Args),
    /// Evaluate a model at points: outputs and a summary of each activation pattern.
    Eval(commands::eval::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => commands::inspect::run(&args),
        Command::Eval(args) => commands::eval::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
