//! The progress line on stderr for runs longer than about a second: files read, records, packs
//! judged, redrawn in place. Only on a terminal: never when stderr is a file or pipe (a CI log),
//! when `CI` is set, or when `TERM` is `dumb`; standard output is never touched.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use vigil::progress::{self, FILES_FOUND, FILES_READ, PACKS_FOUND, PACKS_JUDGED, RECORDS_READ};
use vigil::report::shown::group;

/// How long a run goes before the line appears, and how often it is redrawn.
const DELAY: Duration = Duration::from_millis(1000);
const EVERY: Duration = Duration::from_millis(200);

/// Whether the line is on the screen, and whether output has begun (then it is never drawn
/// again). Drawing and erasing hold the lock, so the line is gone before any output is written.
struct Screen {
    drawn: bool,
    stopped: bool,
}

static SCREEN: Mutex<Screen> = Mutex::new(Screen {
    drawn: false,
    stopped: false,
});

/// Erases the line for good: called before a command writes its output.
pub fn stop() {
    let Ok(mut screen) = SCREEN.lock() else {
        return;
    };
    screen.stopped = true;
    erase(&mut screen);
}

fn erase(screen: &mut Screen) {
    if screen.drawn {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
        screen.drawn = false;
    }
}

/// Draws the line until dropped; dropping it erases the line.
pub struct ProgressLine {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Whether a person is watching stderr.
fn wanted() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

impl ProgressLine {
    /// Starts counting, and drawing once the run has taken [`DELAY`] (when [`wanted`]).
    pub fn start(what: &'static str) -> ProgressLine {
        progress::start();
        let done = Arc::new(AtomicBool::new(false));
        let thread = wanted().then(|| {
            let done = done.clone();
            std::thread::spawn(move || draw(what, &done))
        });
        ProgressLine { done, thread }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // Woken at once: a short run does not wait out the drawing thread's sleep.
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

fn draw(what: &str, done: &AtomicBool) {
    let start = Instant::now();
    while !done.load(Ordering::Relaxed) {
        std::thread::park_timeout(EVERY);
        if start.elapsed() < DELAY {
            continue;
        }
        let Ok(mut screen) = SCREEN.lock() else {
            return;
        };
        if screen.stopped || done.load(Ordering::Relaxed) {
            break;
        }
        let line = describe(what, start.elapsed());
        let mut err = std::io::stderr().lock();
        // `\r` and erase-line: the line is redrawn in place, never scrolled.
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        screen.drawn = true;
    }
    stop();
}

/// "check: 40/40 files, 1,216,569 records, 3/6 packs (4.2 s)": under 60 characters, cut to
/// `COLUMNS` when the shell says the terminal is narrower (a wrapped line could not be erased).
fn describe(what: &str, elapsed: Duration) -> String {
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(80)
        .saturating_sub(1);
    line(what, elapsed).chars().take(width).collect()
}

fn line(what: &str, elapsed: Duration) -> String {
    let (files, found) = (progress::get(&FILES_READ), progress::get(&FILES_FOUND));
    let records = group(usize::try_from(progress::get(&RECORDS_READ)).unwrap_or(usize::MAX));
    let mut line = format!("{what}: {files}/{found} files, {records} records");
    let packs = progress::get(&PACKS_FOUND);
    if packs > 0 {
        let judged = progress::get(&PACKS_JUDGED);
        if judged == packs {
            line.push_str(", writing");
        } else {
            line.push_str(&format!(", {judged}/{packs} packs"));
        }
    }
    line.push_str(&format!(" ({:.1} s)", elapsed.as_secs_f64()));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_files_records_and_packs() {
        let line = describe("check", Duration::from_millis(4200));
        assert!(line.starts_with("check: "), "{line}");
        assert!(line.ends_with("(4.2 s)"), "{line}");
    }
}
