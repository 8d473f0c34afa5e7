//! Named crash points for fault tests. A multi-step operation that crosses modules must survive
//! the process dying between any two of its steps; to prove it, a test starts the real binary
//! with `jobs.crash_at = "<point>"` and the process kills itself with SIGKILL the moment it
//! reaches that point: no destructor, no flush, no reply, exactly as `kill -9` from outside would
//! leave it, but at a known step instead of a lucky one. Unarmed (always in production, where the
//! setting is refused), a point is one relaxed load of an empty string.

use std::sync::OnceLock;

static ARMED: OnceLock<String> = OnceLock::new();

/// Arms the crash point named in the settings (once per process; later calls change nothing).
pub fn arm(point: &str) {
    if !point.is_empty() {
        let _ = ARMED.set(point.to_string());
        tracing::warn!(
            point,
            "fault test: this process will kill itself at a crash point"
        );
    }
}

/// Marks a step boundary; the process dies here when this point is armed.
pub fn point(name: &str) {
    if ARMED.get().is_some_and(|p| p == name) {
        die(name);
    }
}

/// A point whose name is its parts joined with dots (`["ordering", "step", status,
/// "committed"]`), built only when some point is armed.
pub fn point_of(parts: &[&str]) {
    if let Some(armed) = ARMED.get() {
        let name = parts.join(".");
        if *armed == name {
            die(&name);
        }
    }
}

fn die(name: &str) {
    // stderr is unbuffered: the test reads this line to know the kill happened here.
    eprintln!("crash point reached: {name}");
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    // SIGKILL cannot be caught; should raising fail, stop anyway rather than go on.
    std::process::abort();
}
