//! `quarry run`'s signals: SIGINT, SIGTERM and SIGHUP stop the running statement on its
//! server and end the run the ordinary way (a partial `-o` file removed, exit 130); a second
//! one exits at once, for when the server does not answer the stop.

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// Exit code after a signal stopped the run (the shell's 128 + SIGINT).
const EXIT_INTERRUPTED: i32 = 130;

/// Cancels `cancel` on the first stop signal, exits on the second.
pub fn stop_on_signals(cancel: CancellationToken) {
    let kinds = [
        SignalKind::interrupt(),
        SignalKind::terminate(),
        SignalKind::hangup(),
    ];
    let mut signals: Vec<Signal> = kinds.into_iter().filter_map(|k| signal(k).ok()).collect();
    if signals.is_empty() {
        return;
    }
    tokio::spawn(async move {
        next(&mut signals).await;
        cancel.cancel();
        next(&mut signals).await;
        eprintln!(
            "quarry: stopped without waiting for the server: what was sent may still run there"
        );
        std::process::exit(EXIT_INTERRUPTED);
    });
}

/// Waits for any of `signals`.
async fn next(signals: &mut [Signal]) {
    let waits = signals.iter_mut().map(|s| Box::pin(s.recv()));
    futures::future::select_all(waits).await;
}
