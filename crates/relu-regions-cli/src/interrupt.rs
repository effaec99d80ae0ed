//! Ctrl-C (SIGINT), SIGTERM and SIGHUP: the first one raises a flag that long computations read
//! (the enumeration stops and its honest partial answer is printed, then the process exits
//! with [`EXIT_CODE`]); a second one ends the process at once.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

/// The exit code after an interrupted computation printed its partial answer (128 + SIGINT,
/// as shells report a process ended by Ctrl-C).
pub const EXIT_CODE: u8 = 130;

static RAISED: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// The flag, with the handler installed (once per process). If a handler cannot be
/// installed the flag simply never rises, and signals keep their default effect.
pub fn flag() -> &'static AtomicBool {
    INSTALL.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if RAISED.swap(true, Ordering::SeqCst) {
                std::process::exit(i32::from(EXIT_CODE));
            }
        });
    });
    &RAISED
}

/// Whether a signal has been received.
pub fn raised() -> bool {
    RAISED.load(Ordering::SeqCst)
}

/// The error a command returns after printing its partial answer to an interrupt; `main`
/// exits with [`EXIT_CODE`] without printing it.
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// `Err(Interrupted)` when a signal stopped the computation (`interrupted`), else
/// `Ok(())`: the last step of a command that printed an answer which may be partial.
pub fn outcome(interrupted: bool) -> anyhow::Result<()> {
    if interrupted {
        Err(Interrupted.into())
    } else {
        Ok(())
    }
}
