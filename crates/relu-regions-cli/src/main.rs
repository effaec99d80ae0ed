//! `relu-regions`: the command line of the relu-regions library.
//!
//! One module per subcommand under `commands/`; this file only parses arguments and
//! dispatches. Every command prints a human-readable report, or JSON with `--json`.

mod commands;
mod interrupt;
mod model;
mod output;
mod plot;

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
    Inspect(commands::inspect::InspectArgs),
    /// Evaluate a model at points: outputs and a summary of each activation pattern.
    Eval(commands::eval::EvalArgs),
    /// Exact distance from each point to the boundary of its activation region.
    Distance(commands::distance::DistanceArgs),
    /// Exact activation regions and linear pieces along the segment from A to B.
    ///
    /// A region counts when a point of it is certified: a forward pass gives every neuron
    /// a pre-activation farther from zero than its rounding-error bound. What is neither
    /// certified nor proven absent is reported as uncertain, and the answer is then an
    /// interval (docs/math.md §5.2 in the repository).
    Line(commands::line::LineArgs),
    /// Proven upper bound and sampled lower bound on the regions meeting a ball or box.
    Bound(commands::bound::BoundArgs),
    /// Exact number of activation regions meeting a ball or box (or an anytime bound).
    ///
    /// A region counts when a point of it is certified: a forward pass gives every neuron
    /// a pre-activation farther from zero than its rounding-error bound. What is neither
    /// certified nor proven absent is reported as uncertain, and the answer is then an
    /// interval (docs/math.md §5.2 in the repository).
    Count(commands::count::CountArgs),
    /// Exact activation regions of a 2-D slice through a point, with pictures (PNG, SVG).
    ///
    /// A region counts when a point of it is certified: a forward pass gives every neuron
    /// a pre-activation farther from zero than its rounding-error bound. What is neither
    /// certified nor proven absent is reported as uncertain, and the answer is then an
    /// interval (docs/math.md §5.2 in the repository).
    Slice(commands::slice::SliceArgs),
    /// Train a ReLU MLP and test whether region boundaries move away from training points.
    Study(commands::study::StudyArgs),
    /// Run inspect, eval, distance, bound, count, slice and line on the bundled ACAS Xu network.
    Demo(commands::demo::DemoArgs),
}

/// Runs one parsed command.
fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Inspect(args) => commands::inspect::run(&args),
        Command::Eval(args) => commands::eval::run(&args),
        Command::Distance(args) => commands::distance::run(&args),
        Command::Line(args) => commands::line::run(&args),
        Command::Bound(args) => commands::bound::run(&args),
        Command::Count(args) => commands::count::run(&args),
        Command::Slice(args) => commands::slice::run(&args),
        Command::Study(args) => commands::study::run(&args),
        Command::Demo(args) => commands::demo::run(&args),
    }
}

/// Parses a command line (program name first) and runs it; used by `demo`.
pub(crate) fn run_args(argv: &[String]) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(argv)?;
    run(cli.command)
}

/// An error and its causes, outermost first, joined by `: `, each cause once: a cause
/// whose text the message already ends with (a library error that states its source, such
/// as "cannot read FILE: No such file or directory") is not repeated.
fn error_message(e: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if message.ends_with(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<interrupt::Interrupted>() => ExitCode::from(interrupt::EXIT_CODE),
        Err(e) => {
            eprintln!("error: {}", error_message(&e));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_printed_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let load = relu_regions_io::LoadError::Io {
            path: "net.onnx".into(),
            source: io,
        };
        let e = anyhow::Error::new(load).context("loading the model");
        assert_eq!(
            error_message(&e),
            "loading the model: cannot read net.onnx: No such file"
        );
        // Causes that are not repeated are all kept.
        let e = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(error_message(&e), "outer: middle: inner");
    }
}
