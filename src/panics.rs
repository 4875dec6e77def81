//! Panics, contained or ended cleanly — never half of each.
//!
//! A panic inside a *contained* scope ([`contain`] for a closure, [`contained`] for a future:
//! a job's task, a store request, a third-party reader) becomes that scope's error, so the job
//! fails with a message and everything else goes on. Tokio also catches a panicking task and
//! hands it to whoever joins it (DataFusion's own tasks, for instance), so those are treated as
//! contained too. Any other panic — on the UI thread, or on a plain thread nobody watches —
//! restores the terminal, prints the message and ends the process.
//!
//! The hook decides which case it is in; while the TUI runs it never prints over the screen.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::thread::ThreadId;

thread_local! {
    /// How many contained scopes this thread is inside.
    static CONTAINED: Cell<u32> = const { Cell::new(0) };
}

/// Set while the TUI owns the terminal.
static TUI_ACTIVE: AtomicBool = AtomicBool::new(false);
/// The thread that runs the event loop (and `main`).
static MAIN_THREAD: OnceLock<ThreadId> = OnceLock::new();
/// How to give the terminal back (set by the entry point, which knows the terminal).
static RESTORE: OnceLock<fn()> = OnceLock::new();
/// Held while a frame is drawn, and by a fatal panic while it restores the terminal and exits,
/// so no frame lands on the shell's screen after it was restored.
static TERMINAL: Mutex<()> = Mutex::new(());

/// Exit code of a process ended by a panic (the same as Rust's default).
pub const EXIT_PANIC: i32 = 101;

/// Installs the hook; `restore` gives the terminal back. Call once, first thing in `main`.
pub fn install(restore: fn()) {
    let _ = MAIN_THREAD.set(std::thread::current().id());
    let _ = RESTORE.set(restore);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| on_panic(info, &previous)));
}

/// The TUI took (`true`) or gave back (`false`) the terminal.
pub fn set_tui_active(active: bool) {
    TUI_ACTIVE.store(active, Ordering::SeqCst);
}

/// Held while drawing a frame (a poisoned lock is still a lock).
pub fn terminal_lock() -> MutexGuard<'static, ()> {
    TERMINAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn on_panic(info: &PanicHookInfo<'_>, previous: &(dyn Fn(&PanicHookInfo<'_>) + Send + Sync)) {
    let message = describe(info);
    let on_main = MAIN_THREAD.get() == Some(&std::thread::current().id());
    let contained = CONTAINED.with(Cell::get) > 0;
    // Tokio runtime threads (workers and the blocking pool) hand a panic to the task's joiner.
    let in_runtime = !on_main && tokio::runtime::Handle::try_current().is_ok();
    if contained || in_runtime {
        tracing::error!("contained panic: {message}");
        if !TUI_ACTIVE.load(Ordering::SeqCst) && !contained {
            previous(info);
        }
        return;
    }
    tracing::error!("fatal panic: {message}");
    if !TUI_ACTIVE.load(Ordering::SeqCst) {
        previous(info);
        return;
    }
    // The UI thread unwinds into `main`, which ends the process; a frame cannot be half drawn
    // on this thread, so it takes no lock (it may hold it already).
    let _guard = (!on_main).then(terminal_lock);
    if let Some(restore) = RESTORE.get() {
        restore();
    }
    TUI_ACTIVE.store(false, Ordering::SeqCst);
    previous(info);
    if !on_main {
        eprintln!("quarry: a background thread failed; quitting (see the log)");
        std::process::exit(EXIT_PANIC);
    }
}

/// `"message" at file:line`.
fn describe(info: &PanicHookInfo<'_>) -> String {
    let text = payload_text(info.payload());
    match info.location() {
        Some(at) => format!("{text} at {}:{}", at.file(), at.line()),
        None => text,
    }
}

/// The text a panic was raised with.
pub fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Runs `f`; a panic inside becomes `Err(its message)`.
pub fn contain<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    CONTAINED.with(|c| c.set(c.get() + 1));
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(f));
    CONTAINED.with(|c| c.set(c.get().saturating_sub(1)));
    outcome.map_err(|payload| payload_text(&*payload))
}

/// A future whose panics become `Err(message)`; see [`contained`].
pub struct Contained<F> {
    inner: Option<Pin<Box<F>>>,
}

/// Wraps `future` so that a panic while polling it ends it with `Err(the panic's message)`.
pub fn contained<F: Future>(future: F) -> Contained<F> {
    Contained {
        inner: Some(Box::pin(future)),
    }
}

impl<F: Future> Future for Contained<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(Err("polled after it failed".to_string()));
        };
        match contain(|| inner.as_mut().poll(cx)) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(message) => {
                // Never poll a future that panicked again.
                self.inner = None;
                Poll::Ready(Err(message))
            }
        }
    }
}

/// Test builds only: panics when `QUARRY_TEST_PANIC` names `point`, so the tests can check
/// what a panic there does. Release builds never read the variable.
pub fn injection_point(point: &str) {
    if cfg!(debug_assertions)
        && std::env::var("QUARRY_TEST_PANIC").is_ok_and(|wanted| wanted == point)
    {
        panic!("injected panic at `{point}` (QUARRY_TEST_PANIC)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contained_closure_returns_the_message() {
        assert_eq!(contain(|| 7), Ok(7));
        let e = contain(|| -> u8 { panic!("boom {}", 3) }).unwrap_err();
        assert_eq!(e, "boom 3");
        assert_eq!(CONTAINED.with(Cell::get), 0);
    }

    #[tokio::test]
    async fn a_contained_future_fails_with_the_message() {
        assert_eq!(contained(async { 5 }).await, Ok(5));
        let failing = contained(async {
            tokio::task::yield_now().await;
            if CONTAINED.with(Cell::get) > 0 {
                panic!("inside");
            }
            1
        });
        assert_eq!(failing.await, Err("inside".to_string()));
    }
}
