//! The platform's clock. Services and background jobs ask it for "now" instead of the system
//! clock wherever a deadline is set or checked (an unpaid order's payment window, a held slot's
//! expiry, the sweeps that act on them), so a test can move time on and run a pass of a job at
//! once (`Jobs::run_now`) instead of sleeping and hoping the job has run.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// The system clock, or (in tests) a manual one that moves only when told.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<Mutex<DateTime<Utc>>>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that reads `at` until it is moved.
    pub fn manual(at: DateTime<Utc>) -> Self {
        Self(Some(Arc::new(Mutex::new(at))))
    }

    /// Now.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(t) => *t.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
        }
    }

    /// Moves a manual clock on by `by`; false (and no change) for the system clock.
    pub fn advance(&self, by: chrono::Duration) -> bool {
        match &self.0 {
            None => false,
            Some(t) => {
                let mut t = t.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                *t += by;
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        assert_eq!(clock.clone().now(), start, "clones share the time");
        assert!(clock.advance(chrono::Duration::minutes(16)));
        assert_eq!(clock.now(), start + chrono::Duration::minutes(16));
        assert!(!Clock::system().advance(chrono::Duration::minutes(1)));
    }
}
