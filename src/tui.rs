//! The full-screen TUI: terminal setup and restore (on every exit path, panics and SIGTERM
//! included), and the event loop — one `tokio::select!` over terminal events, worker events,
//! a tick and signals. The loop never awaits I/O of a query: that is the worker's job.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use base64::Engine;
use crossterm::event::{
    DisableBracketedPaste, EnableBracketedPaste, Event, EventStream, KeyboardEnhancementFlags,
    PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute};
use futures::StreamExt;
use ratatui::DefaultTerminal;
use ratatui::layout::Rect;

use crate::app::{self, Effect, Msg, State, StateInit};
use crate::panics;
use crate::store::{DataPaths, drafts};
use crate::ui::{self, Ui};
use crate::worker::{self, WorkerCmd};

/// How long quitting waits for cancelled jobs to confirm their server-side cancel.
/// Athena answers StopQueryExecution within a second or two; a dead network gets 10 s.
const CANCEL_GRACE: Duration = Duration::from_secs(10);

/// Restores the terminal: leaves raw mode and the alternate screen, shows the cursor.
pub fn restore_terminal() {
    panics::set_tui_active(false);
    let mut out = io::stdout();
    let _ = execute!(
        out,
        PopKeyboardEnhancementFlags,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = terminal::disable_raw_mode();
    let _ = out.flush();
}

/// Restores the terminal when dropped, whatever way the TUI ends.
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

fn setup_terminal() -> io::Result<(DefaultTerminal, TerminalGuard)> {
    // A panic that is not contained restores the terminal (see `panics`).
    terminal::enable_raw_mode()?;
    let guard = TerminalGuard;
    panics::set_tui_active(true);
    let mut out = io::stdout();
    execute!(out, EnterAlternateScreen, EnableBracketedPaste)?;
    // Terminals that know the kitty keyboard protocol then report Ctrl-Enter distinctly; the
    // others ignore the sequence.
    let _ = execute!(
        out,
        PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
    );
    let backend = ratatui::backend::CrosstermBackend::new(io::stdout());
    let terminal = ratatui::Terminal::new(backend)?;
    Ok((terminal, guard))
}

pub struct TuiOptions {
    pub init: StateInit,
    pub connections: Vec<crate::store::config::ConnectionConfig>,
    /// Connections the config names but could not load (listed, refused when used).
    pub broken: Vec<crate::store::config::BrokenConnection>,
    pub paths: DataPaths,
    /// Highlighting theme from the config.
    pub theme: Option<String>,
    /// The history and snippet library the worker uses.
    pub stores: worker::Stores,
    /// The runtime the worker runs on (the event loop has one of its own).
    pub worker_runtime: tokio::runtime::Handle,
}

/// Runs the TUI until the user quits or a signal arrives; the process's exit code.
pub async fn run(opts: TuiOptions) -> io::Result<i32> {
    let (mut terminal, _guard) = setup_terminal()?;
    let size = terminal.size()?;
    let mut init = opts.init;
    init.area = Rect::new(0, 0, size.width, size.height);
    let mut state = State::new(init);
    let ui = Ui::new(opts.theme.clone());
    let mut worker = worker::spawn(
        &opts.worker_runtime,
        opts.connections,
        opts.broken,
        opts.stores,
    );
    let mut inputs = Inputs::new()?;

    let (drafts_tx, saver) = spawn_draft_saver(opts.paths.clone());
    let start = app::update::on_start(&mut state);
    apply(start, &worker, &drafts_tx, &mut terminal);
    draw(&mut terminal, &state, &ui)?;
    let mut highlighted = ui.highlighter.get().is_some();

    while !state.quitting {
        let Some(msg) = inputs.next(&mut worker).await else {
            continue;
        };
        let animated = matches!(msg, Msg::Tick(_));
        // A tick redraws only what moves, or what it ends (the completion list opening).
        let was_animating = animated && state.is_animating();
        let fx = app::update(&mut state, msg);
        apply(fx, &worker, &drafts_tx, &mut terminal);
        // Take whatever else the worker has ready before drawing once for all of it.
        for _ in 0..64 {
            match worker.events.try_recv() {
                Ok(ev) => {
                    let fx = app::update(&mut state, Msg::Worker(ev));
                    apply(fx, &worker, &drafts_tx, &mut terminal);
                }
                Err(_) => break,
            }
        }
        let highlighter_arrived = !highlighted && ui.highlighter.get().is_some();
        highlighted |= highlighter_arrived;
        if !animated || was_animating || state.is_animating() || highlighter_arrived {
            draw(&mut terminal, &state, &ui)?;
        }
    }

    wind_down(&mut state, &mut worker).await;
    // The saver writes what is queued (the final drafts included) and ends.
    drop(drafts_tx);
    let _ = saver.join();
    if inputs.worker_failed {
        restore_terminal();
        eprintln!("quarry: the background worker failed; quitting (the log has details)");
        return Ok(panics::EXIT_PANIC);
    }
    // Ended by a signal: the shell's convention, 128 + its number.
    Ok(inputs.ended_by.map_or(0, |signo| 128 + signo))
}

/// Gives cancelled jobs a moment to confirm their server-side cancel, and ended sessions to be
/// ended; then shuts the worker down.
async fn wind_down(state: &mut State, worker: &mut worker::WorkerHandle) {
    let deadline = tokio::time::Instant::now() + CANCEL_GRACE;
    while !state.jobs.is_empty() || state.stops_pending > 0 {
        match tokio::time::timeout_at(deadline, worker.events.recv()).await {
            Ok(Some(ev)) => {
                app::update(state, Msg::Worker(ev));
            }
            _ => break,
        }
    }
    let _ = worker.commands.send(WorkerCmd::Shutdown);
}

/// What the event loop waits on besides the worker: the terminal, the tick and signals; and
/// how the loop came to end.
struct Inputs {
    events: EventStream,
    tick: tokio::time::Interval,
    signals: Signals,
    /// The signal that ended the TUI, if one did.
    ended_by: Option<i32>,
    /// The worker failed (its event channel closed while the app ran).
    worker_failed: bool,
}

impl Inputs {
    fn new() -> io::Result<Inputs> {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        Ok(Inputs {
            events: EventStream::new(),
            tick,
            signals: Signals::new()?,
            ended_by: None,
            worker_failed: false,
        })
    }

    /// The next message for the app; `None` for a terminal event it has no use for.
    async fn next(&mut self, worker: &mut worker::WorkerHandle) -> Option<Msg> {
        Some(tokio::select! {
            ev = self.events.next() => match ev {
                Some(Ok(Event::Key(k))) => Msg::Key(k),
                Some(Ok(Event::Paste(s))) => Msg::Paste(s),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(_)) => return None,
                Some(Err(e)) => {
                    tracing::error!("terminal input failed: {e}");
                    Msg::Terminate
                }
                None => Msg::Terminate,
            },
            ev = worker.events.recv() => match ev {
                Some(ev) => Msg::Worker(ev),
                None => {
                    // Only a worker that failed closes its channel while the app runs.
                    self.worker_failed = true;
                    Msg::Terminate
                }
            },
            _ = self.tick.tick() => Msg::Tick(Instant::now()),
            signo = self.signals.recv() => {
                self.ended_by = Some(signo);
                Msg::Terminate
            }
        })
    }
}

/// Draws a frame while holding the terminal (see `panics::terminal_lock`).
fn draw(terminal: &mut DefaultTerminal, state: &State, ui: &Ui) -> io::Result<()> {
    let _lock = panics::terminal_lock();
    terminal.draw(|f| ui::draw(f, state, ui)).map(|_| ())
}

/// The signals that end the TUI. Each one quits like a confirmed `Ctrl-Q`: running queries are
/// stopped on their servers, drafts saved, the terminal restored. (In raw mode `Ctrl-C` and
/// `Ctrl-\` are keys, so SIGINT and SIGQUIT only come from `kill`.)
struct Signals {
    terminate: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
            interrupt: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
        })
    }

    /// The number of the next signal that arrives.
    async fn recv(&mut self) -> i32 {
        use tokio::signal::unix::SignalKind;
        let kind = tokio::select! {
            _ = self.terminate.recv() => SignalKind::terminate(),
            _ = self.hangup.recv() => SignalKind::hangup(),
            _ = self.interrupt.recv() => SignalKind::interrupt(),
            _ = self.quit.recv() => SignalKind::quit(),
        };
        kind.as_raw_value()
    }
}

/// Drafts are written on their own thread so the loop never waits on the disk; saves stay in
/// order and only the newest queued one is written.
fn spawn_draft_saver(
    paths: DataPaths,
) -> (
    std::sync::mpsc::Sender<Vec<drafts::Draft>>,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = std::sync::mpsc::channel::<Vec<drafts::Draft>>();
    let handle = std::thread::spawn(move || {
        while let Ok(mut list) = rx.recv() {
            panics::injection_point("drafts");
            while let Ok(newer) = rx.try_recv() {
                list = newer;
            }
            if let Err(e) = drafts::save(&paths.drafts_file, &list) {
                tracing::warn!("saving drafts failed: {e}");
            }
        }
    });
    (tx, handle)
}

fn apply(
    effects: Vec<Effect>,
    worker: &worker::WorkerHandle,
    drafts_tx: &std::sync::mpsc::Sender<Vec<drafts::Draft>>,
    terminal: &mut DefaultTerminal,
) {
    for effect in effects {
        match effect {
            Effect::Worker(cmd) => {
                if worker.commands.send(cmd).is_err() {
                    tracing::error!("the worker stopped");
                }
            }
            Effect::SaveDrafts(list) => {
                let _ = drafts_tx.send(list);
            }
            Effect::CopyToClipboard(text) => {
                let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                let out = terminal.backend_mut();
                let _ = write!(out, "\x1b]52;c;{encoded}\x07");
                let _ = out.flush();
                copy_to_system_clipboard(text);
            }
            Effect::Quit => {}
        }
    }
}

/// Also hands copied text to the system clipboard's tool when one is reachable (OSC 52 works
/// only where the terminal allows it). On its own thread: the tool may take a moment.
fn copy_to_system_clipboard(text: String) {
    use std::process::{Command, Stdio};
    // (program, arguments, the environment variable that says its display server is there)
    const TOOLS: &[(&str, &[&str], Option<&str>)] = &[
        ("wl-copy", &[], Some("WAYLAND_DISPLAY")),
        ("xclip", &["-selection", "clipboard"], Some("DISPLAY")),
        ("xsel", &["--clipboard", "--input"], Some("DISPLAY")),
        ("pbcopy", &[], None),
    ];
    std::thread::spawn(move || {
        for (program, args, needs) in TOOLS {
            if needs.is_some_and(|var| std::env::var_os(var).is_none()) {
                continue;
            }
            let spawned = Command::new(program)
                .args(*args)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let Ok(mut child) = spawned else {
                continue;
            };
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(text.as_bytes());
            }
            let _ = child.wait();
            return;
        }
    });
}
