//! Booking rules without I/O: the tenant's config, weekly hours, slot generation in the tenant's
//! time zone, the grid cells a reservation occupies (what capacity is counted on), the reservation
//! status machine with who may take each step, and the customer's policy windows.
//!
//! Times are stored and compared in UTC; only the schedule ("Tuesdays 09:00–18:00") is local. The
//! supported zones have had no daylight saving since 1991, so a fixed offset is exact for every
//! date a booking can be made on (and needs no tz database in the binary).

use chrono::{DateTime, Datelike as _, Duration, FixedOffset, NaiveDate, TimeZone as _, Utc};
use serde::{Deserialize, Serialize};

/// Time zones a tenant may choose, with their fixed offsets in minutes (none observes DST).
pub const ZONES: &[(&str, i32)] = &[
    ("Asia/Shanghai", 480),
    ("Asia/Hong_Kong", 480),
    ("Asia/Macau", 480),
    ("Asia/Taipei", 480),
    ("Asia/Singapore", 480),
    ("Asia/Tokyo", 540),
    ("Asia/Seoul", 540),
];

/// The tenant's booking config (module.json's schema, defaults included).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Length of a grid cell; slots start on it.
    pub slot_minutes: i64,
    /// Customers book at least this long ahead.
    pub lead_time_minutes: i64,
    /// Customers book at most this many days ahead.
    pub horizon_days: i64,
    /// Customers may not cancel a confirmed booking less than this before its start.
    pub cancel_window_hours: i64,
    /// Customers may not move a booking less than this before its start.
    pub reschedule_window_hours: i64,
    /// How long a hold keeps its place unconfirmed.
    pub hold_minutes: i64,
    /// One of [`ZONES`].
    pub time_zone: String,
    /// WeChat subscribe-message template for reminders; empty: no reminders.
    pub reminder_template_id: String,
    /// How long before the start the reminder goes out.
    pub reminder_minutes_before: i64,
    /// Which template keys carry what.
    pub reminder_keys: ReminderKeys,
}

/// The config's rules its schema cannot say (`ModuleDef::config_rules`): the shortest notice must
/// leave some of the horizon bookable, else no date ever has a slot.
pub fn config_rules(
    c: &serde_json::Map<String, serde_json::Value>,
) -> Vec<mm_kernel::error::FieldViolation> {
    let Ok(cfg) = serde_json::from_value::<Config>(serde_json::Value::Object(c.clone())) else {
        return Vec::new();
    };
    let horizon_minutes = cfg.horizon_days.saturating_mul(24 * 60);
    if cfg.lead_time_minutes >= horizon_minutes {
        return vec![
            mm_kernel::error::FieldViolation::new(
                "config.lead_time_minutes",
                format!(
                    "must be shorter than the booking horizon ({} days, {horizon_minutes} minutes)",
                    cfg.horizon_days
                ),
            )
            .reason("LEAD_TIME_TOO_LONG")
            .param("horizon_days", cfg.horizon_days)
            .param("max", horizon_minutes.saturating_sub(1)),
        ];
    }
    Vec::new()
}

/// The template keys a reminder fills (templates differ per shop: "thing1", "time2", ...).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ReminderKeys {
    /// Service name (a "thing" key: 20 characters at most).
    pub service: String,
    /// Local start time.
    pub time: String,
    /// Who performs it; empty when the template has no such key.
    pub staff: String,
}

impl Default for ReminderKeys {
    fn default() -> Self {
        Self {
            service: "thing1".into(),
            time: "time2".into(),
            staff: "thing3".into(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            slot_minutes: 30,
            lead_time_minutes: 60,
            horizon_days: 14,
            cancel_window_hours: 2,
            reschedule_window_hours: 2,
            hold_minutes: 10,
            time_zone: "Asia/Shanghai".into(),
            reminder_template_id: String::new(),
            reminder_minutes_before: 120,
            reminder_keys: ReminderKeys::default(),
        }
    }
}

impl Config {
    /// The tenant's offset; an unknown zone (the schema prevents it) falls back to Shanghai.
    pub fn offset(&self) -> FixedOffset {
        let minutes = ZONES
            .iter()
            .find(|(n, _)| *n == self.time_zone)
            .map_or(480, |(_, m)| *m);
        FixedOffset::east_opt(minutes * 60).unwrap_or_else(|| chrono::Offset::fix(&Utc))
    }

    /// Slot length, never below five minutes whatever is stored.
    pub fn slot(&self) -> i64 {
        self.slot_minutes.max(5)
    }
}

/// A local time window, in minutes after midnight; `end` may be 1440 ("24:00").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Start, inclusive.
    pub start: u16,
    /// End, exclusive.
    pub end: u16,
}

/// Parses "HH:MM" (and "24:00" as the end of the day).
pub fn parse_hm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// Formats minutes after midnight as "HH:MM".
pub fn format_hm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

impl Window {
    /// A window from "HH:MM" strings; end must be after start.
    pub fn parse(start: &str, end: &str) -> Option<Self> {
        let (start, end) = (parse_hm(start)?, parse_hm(end)?);
        (start < 1440 && end > start).then_some(Self { start, end })
    }

    fn overlaps(&self, start: u16, end: u16) -> bool {
        start < self.end && self.start < end
    }
}

/// Working hours of one ISO weekday (1 = Monday).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHours {
    /// 1..=7.
    pub weekday: u8,
    /// When bookings may take place.
    pub windows: Vec<Window>,
    /// No booking may overlap these.
    pub breaks: Vec<Window>,
}

/// Checks a weekly schedule: weekdays 1..=7, each at most once, at most 8 windows and breaks a day.
pub fn check_schedule(days: &[DayHours]) -> Result<(), &'static str> {
    let mut seen = [false; 8];
    for d in days {
        let w = usize::from(d.weekday);
        if !(1..=7).contains(&w) {
            return Err("weekday must be 1 (Monday) to 7 (Sunday)");
        }
        if seen[w] {
            return Err("each weekday at most once");
        }
        seen[w] = true;
        if d.windows.len() > 8 || d.breaks.len() > 8 {
            return Err("at most 8 windows and 8 breaks a day");
        }
    }
    Ok(())
}

/// A period in UTC, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Start, inclusive.
    pub start: DateTime<Utc>,
    /// End, exclusive.
    pub end: DateTime<Utc>,
}

impl Period {
    /// Whether two periods share any instant.
    pub fn overlaps(&self, other: &Period) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// What slot generation needs of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceShape {
    /// Minutes of service.
    pub duration_minutes: i64,
    /// Minutes kept free after it.
    pub buffer_minutes: i64,
}

impl ServiceShape {
    /// Minutes the resource is taken: service plus buffer.
    pub fn occupied_minutes(&self) -> i64 {
        self.duration_minutes + self.buffer_minutes
    }
}

/// The UTC instant of a local date and minute of day.
pub fn local_to_utc(date: NaiveDate, minute: u16, offset: FixedOffset) -> Option<DateTime<Utc>> {
    let naive = date.and_hms_opt(0, 0, 0)? + Duration::minutes(i64::from(minute));
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// "YYYY-MM-DD HH:MM" in the tenant's zone.
pub fn local_label(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.with_timezone(&offset)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Where customers may book: from now plus the lead time to now plus the horizon.
pub fn bookable_range(cfg: &Config, now: DateTime<Utc>) -> Period {
    Period {
        start: now + Duration::minutes(cfg.lead_time_minutes),
        end: now + Duration::days(cfg.horizon_days),
    }
}

/// Every start of `shape` on the resource's schedule over the local dates `from..=to`: on the slot
/// grid (anchored at local midnight), the whole occupied span (service plus buffer) inside one
/// working window, clear of breaks and of time off, and inside `range` when given (customers get
/// the lead time and horizon; staff booking walk-ins get none). Capacity is not looked at here.
pub fn slot_starts(
    schedule: &[DayHours],
    time_off: &[Period],
    shape: ServiceShape,
    cfg: &Config,
    from: NaiveDate,
    to: NaiveDate,
    range: Option<Period>,
) -> Vec<DateTime<Utc>> {
    let offset = cfg.offset();
    let slot = cfg.slot();
    let occupied = shape.occupied_minutes();
    let mut out = Vec::new();
    let mut date = from;
    while date <= to {
        let weekday = u8::try_from(date.weekday().number_from_monday()).unwrap_or(0);
        for day in schedule.iter().filter(|d| d.weekday == weekday) {
            for w in &day.windows {
                let first = (i64::from(w.start) + slot - 1) / slot * slot;
                let mut start = first;
                while start + occupied <= i64::from(w.end) {
                    let (s, e) = (
                        u16::try_from(start).unwrap_or(u16::MAX),
                        u16::try_from(start + occupied).unwrap_or(u16::MAX),
                    );
                    let clear = !day.breaks.iter().any(|b| b.overlaps(s, e));
                    if let (true, Some(t)) = (clear, local_to_utc(date, s, offset)) {
                        let span = Period {
                            start: t,
                            end: t + Duration::minutes(occupied),
                        };
                        let free = !time_off.iter().any(|o| o.overlaps(&span));
                        let in_range = range.is_none_or(|r| t >= r.start && t <= r.end);
                        if free && in_range {
                            out.push(t);
                        }
                    }
                    start += slot;
                }
            }
        }
        let Some(next) = date.succ_opt() else { break };
        date = next;
    }
    out.sort();
    out.dedup();
    out
}

/// The grid cells a reservation takes on its resource: `count` cells of `minutes` from `start`
/// (unix seconds). Capacity is counted per cell, so a 60-minute booking on a 30-minute grid holds
/// both cells and no other booking can overlap it beyond the capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cells {
    /// Unix seconds of the first cell.
    pub start: i64,
    /// How many cells.
    pub count: i64,
    /// Cell length.
    pub minutes: i64,
}

impl Cells {
    /// The cells of a span starting at `start` (on the grid) and lasting `occupied` minutes.
    pub fn of(start: DateTime<Utc>, occupied: i64, slot: i64) -> Self {
        let slot = slot.max(1);
        Self {
            start: start.timestamp(),
            count: ((occupied.max(1) + slot - 1) / slot).max(1),
            minutes: slot,
        }
    }

    /// Each cell's start, ascending (the order locks are taken in, so two reservations cannot
    /// deadlock on PostgreSQL).
    pub fn starts(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.count).map(move |i| self.start + i * self.minutes * 60)
    }
}

/// Whether `start` lies on the grid (slot lengths divide an hour and the zones have whole-hour
/// offsets, so the local grid is the UTC grid).
pub fn on_grid(start: DateTime<Utc>, cfg: &Config) -> bool {
    start.timestamp() % (cfg.slot() * 60) == 0 && start.timestamp_subsec_nanos() == 0
}

/// Where a reservation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Place held until the hold expires.
    Held,
    /// Confirmed.
    Confirmed,
    /// Served; final.
    Completed,
    /// Did not come; final.
    NoShow,
    /// Cancelled; final.
    Cancelled,
    /// Hold ran out; final.
    Expired,
}

/// Where a reservation's deposit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deposit {
    /// No deposit asked.
    None,
    /// To pay.
    Unpaid,
    /// Paid.
    Paid,
    /// Refund asked of WeChat Pay.
    Refunding,
    /// Refunded.
    Refunded,
}

impl Deposit {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Unpaid => "unpaid",
            Self::Paid => "paid",
            Self::Refunding => "refunding",
            Self::Refunded => "refunded",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => Self::None,
            "unpaid" => Self::Unpaid,
            "paid" => Self::Paid,
            "refunding" => Self::Refunding,
            "refunded" => Self::Refunded,
            _ => return None,
        })
    }
}

impl Status {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Confirmed => "confirmed",
            Self::Completed => "completed",
            Self::NoShow => "no_show",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "held" => Self::Held,
            "confirmed" => Self::Confirmed,
            "completed" => Self::Completed,
            "no_show" => Self::NoShow,
            "cancelled" => Self::Cancelled,
            "expired" => Self::Expired,
            _ => return None,
        })
    }

    /// Whether the reservation counts against its cells' capacity.
    pub fn holds_place(self) -> bool {
        matches!(self, Self::Held | Self::Confirmed)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A step on a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Held → confirmed.
    Confirm,
    /// Held or confirmed → cancelled.
    Cancel,
    /// Held or confirmed, moved to another slot (status unchanged).
    Reschedule,
    /// Confirmed → completed.
    Complete,
    /// Confirmed → no-show.
    NoShow,
    /// Held → expired (the sweeper).
    Expire,
}

impl Action {
    /// For error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirmed",
            Self::Cancel => "cancelled",
            Self::Reschedule => "rescheduled",
            Self::Complete => "completed",
            Self::NoShow => "marked a no-show",
            Self::Expire => "expired",
        }
    }
}

/// Who takes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The reservation's own customer.
    Customer,
    /// Staff, admins, operators.
    Staff,
    /// The expiry sweep.
    System,
}

/// The status after `action` by `actor`, or `None` when not allowed. The whole table is here:
///
/// | from      | action     | to        | who              |
/// |-----------|------------|-----------|------------------|
/// | held      | confirm    | confirmed | customer, staff  |
/// | held      | expire     | expired   | system           |
/// | held, confirmed | cancel | cancelled | customer, staff |
/// | held, confirmed | reschedule | (same) | customer, staff |
/// | confirmed | complete   | completed | staff            |
/// | confirmed | no-show    | no_show   | staff            |
pub fn transition(from: Status, action: Action, actor: Actor) -> Option<Status> {
    use Action as A;
    use Actor as W;
    use Status as S;
    match (from, action, actor) {
        // System: the deposit was paid.
        (S::Held, A::Confirm, W::Customer | W::Staff | W::System) => Some(S::Confirmed),
        (S::Held, A::Expire, W::System) => Some(S::Expired),
        (S::Held | S::Confirmed, A::Cancel, W::Customer | W::Staff) => Some(S::Cancelled),
        (S::Held | S::Confirmed, A::Reschedule, W::Customer | W::Staff) => Some(from),
        (S::Confirmed, A::Complete, W::Staff) => Some(S::Completed),
        (S::Confirmed, A::NoShow, W::Staff) => Some(S::NoShow),
        _ => None,
    }
}

/// Why a policy refuses a customer's step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyRefusal {
    /// Too close to the start to cancel.
    CancelWindow { hours: i64 },
    /// Too close to the start to move.
    RescheduleWindow { hours: i64 },
    /// A no-show before the start.
    NotStartedYet,
}

/// The policy on top of the status table: customers cancel a confirmed booking or move any
/// booking only while its start is at least the window away (a hold may always be dropped: nothing
/// was promised yet); a no-show can only be recorded once the start has passed. Staff are bound
/// only by the last rule.
pub fn check_policy(
    status: Status,
    action: Action,
    actor: Actor,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    cfg: &Config,
) -> Result<(), PolicyRefusal> {
    let ahead = start - now;
    match (action, actor) {
        (Action::Cancel, Actor::Customer)
            if status == Status::Confirmed && ahead < Duration::hours(cfg.cancel_window_hours) =>
        {
            Err(PolicyRefusal::CancelWindow {
                hours: cfg.cancel_window_hours,
            })
        }
        (Action::Reschedule, Actor::Customer)
            if ahead < Duration::hours(cfg.reschedule_window_hours) =>
        {
            Err(PolicyRefusal::RescheduleWindow {
                hours: cfg.reschedule_window_hours,
            })
        }
        (Action::NoShow, _) if now < start => Err(PolicyRefusal::NotStartedYet),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn w(a: &str, b: &str) -> Window {
        Window::parse(a, b).unwrap()
    }

    fn every_day(windows: Vec<Window>, breaks: Vec<Window>) -> Vec<DayHours> {
        (1..=7)
            .map(|weekday| DayHours {
                weekday,
                windows: windows.clone(),
                breaks: breaks.clone(),
            })
            .collect()
    }

    const HOUR: ServiceShape = ServiceShape {
        duration_minutes: 60,
        buffer_minutes: 0,
    };

    #[test]
    fn parses_times_of_day_and_refuses_nonsense() {
        assert_eq!(parse_hm("09:30"), Some(570));
        assert_eq!(parse_hm("24:00"), Some(1440));
        for bad in ["9:30", "24:01", "12:60", "ab:cd", "", "12"] {
            assert_eq!(parse_hm(bad), None, "{bad}");
        }
        assert!(Window::parse("10:00", "09:00").is_none());
        assert!(Window::parse("10:00", "10:00").is_none());
        assert_eq!(format_hm(570), "09:30");
    }

    #[test]
    fn a_schedule_names_each_weekday_once() {
        let mut days = every_day(vec![w("09:00", "17:00")], vec![]);
        assert!(check_schedule(&days).is_ok());
        days[1].weekday = 1;
        assert!(check_schedule(&days).is_err());
        days[1].weekday = 8;
        assert!(check_schedule(&days).is_err());
    }

    #[test]
    fn shanghai_morning_slots_are_the_previous_utc_evening() {
        let cfg = Config::default();
        let days = every_day(vec![w("07:00", "09:00")], vec![]);
        let s = slot_starts(
            &days,
            &[],
            HOUR,
            &cfg,
            date("2026-12-01"),
            date("2026-12-01"),
            None,
        );
        // 07:00, 07:30, 08:00 local (a 60-minute service must end by 09:00).
        assert_eq!(
            s,
            vec![
                utc("2026-11-30T23:00:00Z"),
                utc("2026-11-30T23:30:00Z"),
                utc("2026-12-01T00:00:00Z"),
            ]
        );
        assert_eq!(local_label(s[0], cfg.offset()), "2026-12-01 07:00");
    }

    #[test]
    fn a_late_evening_slot_keeps_its_local_date_and_weekday() {
        // 2026-12-06 is a Sunday in Shanghai; 23:30 there is 15:30 UTC the same day, and only
        // Sunday is open.
        let cfg = Config::default();
        let days = vec![DayHours {
            weekday: 7,
            windows: vec![w("23:00", "24:00")],
            breaks: vec![],
        }];
        let half = ServiceShape {
            duration_minutes: 30,
            buffer_minutes: 0,
        };
        let s = slot_starts(
            &days,
            &[],
            half,
            &cfg,
            date("2026-12-05"),
            date("2026-12-07"),
            None,
        );
        assert_eq!(
            s,
            vec![utc("2026-12-06T15:00:00Z"), utc("2026-12-06T15:30:00Z")]
        );
        assert_eq!(local_label(s[1], cfg.offset()), "2026-12-06 23:30");
    }

    #[test]
    fn tokyo_tenants_read_the_same_hours_an_hour_earlier_in_utc() {
        let cfg = Config {
            time_zone: "Asia/Tokyo".into(),
            ..Config::default()
        };
        let days = every_day(vec![w("09:00", "10:00")], vec![]);
        let s = slot_starts(
            &days,
            &[],
            HOUR,
            &cfg,
            date("2026-12-01"),
            date("2026-12-01"),
            None,
        );
        assert_eq!(s, vec![utc("2026-12-01T00:00:00Z")]);
    }

    #[test]
    fn breaks_and_buffers_keep_bookings_apart() {
        let cfg = Config::default();
        let days = every_day(vec![w("09:00", "13:00")], vec![w("11:00", "12:00")]);
        let with_buffer = ServiceShape {
            duration_minutes: 45,
            buffer_minutes: 15,
        };
        let labels: Vec<String> = slot_starts(
            &days,
            &[],
            with_buffer,
            &cfg,
            date("2026-12-01"),
            date("2026-12-01"),
            None,
        )
        .into_iter()
        .map(|t| local_label(t, cfg.offset()))
        .collect();
        // 09:00–10:00 and 09:30–10:30 and 10:00–11:00 fit before the break; 12:00–13:00 after.
        assert_eq!(
            labels,
            vec![
                "2026-12-01 09:00",
                "2026-12-01 09:30",
                "2026-12-01 10:00",
                "2026-12-01 12:00"
            ]
        );
    }

    #[test]
    fn windows_not_on_the_grid_start_at_the_next_grid_line() {
        let cfg = Config::default();
        let days = every_day(vec![w("09:10", "11:00")], vec![]);
        let s = slot_starts(
            &days,
            &[],
            HOUR,
            &cfg,
            date("2026-12-01"),
            date("2026-12-01"),
            None,
        );
        assert_eq!(
            s.iter()
                .map(|t| local_label(*t, cfg.offset()))
                .collect::<Vec<_>>(),
            vec!["2026-12-01 09:30", "2026-12-01 10:00"]
        );
        assert!(s.iter().all(|t| on_grid(*t, &cfg)));
    }

    #[test]
    fn a_holiday_in_local_time_removes_the_whole_local_day() {
        let cfg = Config::default();
        let days = every_day(vec![w("00:00", "24:00")], vec![]);
        let off = cfg.offset();
        let holiday = Period {
            start: local_to_utc(date("2026-12-02"), 0, off).unwrap(),
            end: local_to_utc(date("2026-12-03"), 0, off).unwrap(),
        };
        assert_eq!(holiday.start, utc("2026-12-01T16:00:00Z"));
        let s = slot_starts(
            &days,
            &[holiday],
            HOUR,
            &cfg,
            date("2026-12-01"),
            date("2026-12-03"),
            None,
        );
        let dates: std::collections::BTreeSet<String> = s
            .iter()
            .map(|t| local_label(*t, off)[..10].to_string())
            .collect();
        assert_eq!(
            dates.into_iter().collect::<Vec<_>>(),
            vec!["2026-12-01", "2026-12-03"]
        );
        // The last slot of the 1st ends exactly when the holiday begins.
        assert!(s.contains(&utc("2026-12-01T15:00:00Z")));
        assert!(!s.contains(&utc("2026-12-01T15:30:00Z")));
    }

    #[test]
    fn lead_time_and_horizon_bound_what_customers_see() {
        let cfg = Config {
            lead_time_minutes: 120,
            horizon_days: 1,
            ..Config::default()
        };
        let days = every_day(vec![w("09:00", "18:00")], vec![]);
        // 10:00 local on 2026-12-01.
        let now = utc("2026-12-01T02:00:00Z");
        let s = slot_starts(
            &days,
            &[],
            HOUR,
            &cfg,
            date("2026-12-01"),
            date("2026-12-03"),
            Some(bookable_range(&cfg, now)),
        );
        assert_eq!(s.first(), Some(&utc("2026-12-01T04:00:00Z")), "12:00 local");
        assert!(s.iter().all(|t| *t <= now + Duration::days(1)));
        assert_eq!(
            s.last().map(|t| local_label(*t, cfg.offset())).as_deref(),
            Some("2026-12-02 10:00"),
            "exactly one day ahead, no further"
        );
    }

    #[test]
    fn cells_cover_service_and_buffer_rounded_up() {
        let t = utc("2026-12-01T01:00:00Z");
        let c = Cells::of(t, 45 + 20, 30);
        assert_eq!(c.count, 3);
        assert_eq!(
            c.starts().collect::<Vec<_>>(),
            vec![t.timestamp(), t.timestamp() + 1800, t.timestamp() + 3600]
        );
        assert_eq!(Cells::of(t, 30, 30).count, 1);
        assert!(on_grid(t, &Config::default()));
        assert!(!on_grid(t + Duration::minutes(10), &Config::default()));
    }

    #[test]
    fn the_status_table_says_who_may_do_what() {
        use Action as A;
        use Actor as W;
        use Status as S;
        let rows = [
            (S::Held, A::Confirm, W::Customer, Some(S::Confirmed)),
            (S::Held, A::Confirm, W::Staff, Some(S::Confirmed)),
            (S::Held, A::Confirm, W::System, Some(S::Confirmed)),
            (S::Confirmed, A::Confirm, W::System, None),
            (S::Held, A::Expire, W::System, Some(S::Expired)),
            (S::Held, A::Expire, W::Customer, None),
            (S::Confirmed, A::Expire, W::System, None),
            (S::Confirmed, A::Cancel, W::Customer, Some(S::Cancelled)),
            (S::Held, A::Cancel, W::Staff, Some(S::Cancelled)),
            (S::Confirmed, A::Reschedule, W::Customer, Some(S::Confirmed)),
            (S::Confirmed, A::Complete, W::Staff, Some(S::Completed)),
            (S::Confirmed, A::Complete, W::Customer, None),
            (S::Held, A::Complete, W::Staff, None),
            (S::Confirmed, A::NoShow, W::Staff, Some(S::NoShow)),
            (S::Confirmed, A::NoShow, W::Customer, None),
            (S::Cancelled, A::Cancel, W::Staff, None),
            (S::Expired, A::Confirm, W::Customer, None),
            (S::Completed, A::Reschedule, W::Staff, None),
        ];
        for (from, action, actor, to) in rows {
            assert_eq!(
                transition(from, action, actor),
                to,
                "{from} {action:?} {actor:?}"
            );
        }
        for s in [
            S::Held,
            S::Confirmed,
            S::Completed,
            S::NoShow,
            S::Cancelled,
            S::Expired,
        ] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn customers_cannot_cancel_or_move_inside_the_windows_staff_can() {
        let cfg = Config {
            cancel_window_hours: 2,
            reschedule_window_hours: 24,
            ..Config::default()
        };
        let start = utc("2026-12-01T10:00:00Z");
        let early = start - Duration::hours(3);
        let late = start - Duration::minutes(119);
        let ok = |a, w, now| check_policy(Status::Confirmed, a, w, start, now, &cfg);
        assert_eq!(ok(Action::Cancel, Actor::Customer, early), Ok(()));
        assert_eq!(
            ok(Action::Cancel, Actor::Customer, late),
            Err(PolicyRefusal::CancelWindow { hours: 2 })
        );
        assert_eq!(ok(Action::Cancel, Actor::Staff, late), Ok(()));
        assert_eq!(
            ok(Action::Reschedule, Actor::Customer, early),
            Err(PolicyRefusal::RescheduleWindow { hours: 24 })
        );
        assert_eq!(
            ok(
                Action::Reschedule,
                Actor::Customer,
                start - Duration::hours(24)
            ),
            Ok(())
        );
        assert_eq!(ok(Action::Reschedule, Actor::Staff, late), Ok(()));
        // Dropping a hold is always allowed.
        assert_eq!(
            check_policy(
                Status::Held,
                Action::Cancel,
                Actor::Customer,
                start,
                late,
                &cfg
            ),
            Ok(())
        );
        assert_eq!(
            ok(Action::NoShow, Actor::Staff, early),
            Err(PolicyRefusal::NotStartedYet)
        );
        assert_eq!(ok(Action::NoShow, Actor::Staff, start), Ok(()));
    }

    #[test]
    fn config_defaults_to_shanghai_and_reads_partial_json() {
        let c: Config = serde_json::from_value(serde_json::json!({"slot_minutes": 15})).unwrap();
        assert_eq!(c.slot_minutes, 15);
        assert_eq!(c.time_zone, "Asia/Shanghai");
        assert_eq!(c.offset().local_minus_utc(), 8 * 3600);
    }
}

/// A discount taken off a deposit, as stored on the reservation (`discounts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositDiscount {
    /// The gRPC service of the module that granted it (told what becomes of the booking).
    pub service: String,
    /// What it is, e.g. "tenants/{t}/coupons/{c}".
    pub source: String,
    /// e.g. "COUPON".
    pub kind: String,
    /// Label (Chinese).
    pub label_zh: String,
    /// Label (English).
    pub label_en: String,
    /// Fen taken off.
    pub amount_fen: i64,
}
