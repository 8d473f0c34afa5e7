/**
 * Booking's calendar arithmetic in the shop's time zone, not the phone's: the date strip over the
 * booking horizon, a day's slots grouped by part of the day (one entry per start time when the
 * customer takes any staff member), and the customer's cancel and reschedule windows. Pure: every
 * function takes `now` and the zone's offset, so tests pin both.
 *
 * The offset is the server's (GET /api/v1/booking/settings): the mini-program keeps no table of
 * zones.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The policy numbers the UI respects (the server enforces them anyway). */
export interface Policy {
  leadTimeMinutes: number;
  horizonDays: number;
  cancelWindowHours: number;
  rescheduleWindowHours: number;
  /** Minutes east of UTC. */
  offset: number;
}

export interface LocalTime {
  /** "YYYY-MM-DD". */
  date: string;
  /** "HH:MM". */
  time: string;
  /** ISO weekday: 1 is Monday, 7 is Sunday. */
  weekday: number;
  /** Minutes after local midnight. */
  minutes: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An instant (ms) read on the shop's wall clock. */
export function localTime(ms: number, offset: number): LocalTime {
  const d = new Date(ms + offset * MINUTE);
  const weekday = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
  return {
    date: `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
    time: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`,
    weekday,
    minutes: d.getUTCHours() * 60 + d.getUTCMinutes(),
  };
}

/** Milliseconds of an RFC 3339 time; NaN when it cannot be read. */
export function instant(rfc3339: string | null | undefined): number {
  return rfc3339 ? new Date(rfc3339).getTime() : NaN;
}

/** "YYYY-MM-DD" plus `n` calendar days. */
export function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d) + n * DAY);
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

export interface StripDay {
  /** "YYYY-MM-DD" in the shop's zone. */
  date: string;
  /** "11-25". */
  day: string;
  /** ISO weekday. */
  weekday: number;
  /** 0 for today, 1 for tomorrow… */
  offsetDays: number;
}

/**
 * The local dates a customer can book on: from the day the lead time ends to the day the horizon
 * ends (the server offers starts in [now + lead time, now + horizon)). Empty when the lead time
 * reaches past the horizon.
 */
export function dateStrip(now: number, p: Policy): StripDay[] {
  const today = localTime(now, p.offset).date;
  const first = localTime(now + p.leadTimeMinutes * MINUTE, p.offset).date;
  // The horizon's end is exclusive: a start exactly at it is not offered.
  const last = localTime(now + p.horizonDays * DAY - MINUTE, p.offset).date;
  const out: StripDay[] = [];
  for (let date = first, i = 0; date <= last && i < 400; date = addDays(date, 1), i++) {
    const [, m, d] = date.split('-');
    const weekday = localTime(Date.parse(`${date}T12:00:00Z`), 0).weekday;
    out.push({ date, day: `${m}-${d}`, weekday, offsetDays: daysBetween(today, date) });
  }
  return out;
}

/** Whole days from local date `a` to local date `b`. */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY);
}

/**
 * The strip's dates as [from, to] ranges of at most `days` days each, for the slot route (which
 * takes at most 30 days per call).
 */
export function dateRanges(dates: readonly string[], days = 30): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (let i = 0; i < dates.length; i += days) {
    const chunk = dates.slice(i, i + days);
    out.push({ from: chunk[0]!, to: chunk[chunk.length - 1]! });
  }
  return out;
}

/** A free start as the BFF sends it. */
export interface Slot {
  staff_id: string;
  start_time: string;
  end_time: string;
  remaining: number;
}

/** One start time the customer can tap. */
export interface SlotChoice {
  /** The start (RFC 3339), as the hold takes it. */
  start: string;
  /** "HH:MM" in the shop's zone. */
  time: string;
  /** The staff member to book: the chosen one, or for "any" the one with the most places left. */
  staffId: string;
  /** Places left (summed over staff for "any"). */
  remaining: number;
}

export type Period = 'morning' | 'afternoon' | 'evening';

export interface PeriodGroup {
  period: Period;
  slots: SlotChoice[];
}

/** Morning before 12:00, afternoon before 18:00, evening after. */
export function periodOf(minutes: number): Period {
  return minutes < 12 * 60 ? 'morning' : minutes < 18 * 60 ? 'afternoon' : 'evening';
}

/** The `staff` filter meaning "whoever is free". */
export const ANY_STAFF = 'any';

/**
 * The choices on one local date: slots of the chosen staff member (or of everyone, one per start
 * time, for `ANY_STAFF`), never one starting inside the lead time (the page may have been open
 * a while), by time and grouped by part of the day.
 */
export function slotsOn(slots: readonly Slot[], date: string, staff: string, now: number, p: Policy): PeriodGroup[] {
  const earliest = now + p.leadTimeMinutes * MINUTE;
  const byStart = new Map<string, SlotChoice & { ms: number; best: number }>();
  for (const s of slots) {
    if (s.remaining <= 0 || (staff !== ANY_STAFF && s.staff_id !== staff)) continue;
    const ms = instant(s.start_time);
    if (!(ms >= earliest)) continue;
    const local = localTime(ms, p.offset);
    if (local.date !== date) continue;
    const key = String(ms);
    const seen = byStart.get(key);
    if (!seen) {
      byStart.set(key, { start: s.start_time, time: local.time, staffId: s.staff_id, remaining: s.remaining, ms, best: s.remaining });
    } else {
      seen.remaining += s.remaining;
      if (s.remaining > seen.best) {
        seen.best = s.remaining;
        seen.staffId = s.staff_id;
      }
    }
  }
  const groups: PeriodGroup[] = [];
  for (const c of [...byStart.values()].sort((a, b) => a.ms - b.ms)) {
    const period = periodOf(localTime(c.ms, p.offset).minutes);
    let g = groups.find((x) => x.period === period);
    if (!g) groups.push((g = { period, slots: [] }));
    g.slots.push({ start: c.start, time: c.time, staffId: c.staffId, remaining: c.remaining });
  }
  return groups;
}

/** The local dates that have at least one choice for `staff`. */
export function datesWithSlots(slots: readonly Slot[], staff: string, now: number, p: Policy): Set<string> {
  const earliest = now + p.leadTimeMinutes * MINUTE;
  const out = new Set<string>();
  for (const s of slots) {
    const ms = instant(s.start_time);
    if (s.remaining > 0 && ms >= earliest && (staff === ANY_STAFF || s.staff_id === staff)) out.add(localTime(ms, p.offset).date);
  }
  return out;
}

/** Each staff member seen in `slots` with their earliest start, earliest first. */
export function staffOf(slots: readonly Slot[], now: number, p: Policy): { staffId: string; first: string }[] {
  const earliest = now + p.leadTimeMinutes * MINUTE;
  const first = new Map<string, number>();
  for (const s of slots) {
    const ms = instant(s.start_time);
    if (s.remaining <= 0 || !(ms >= earliest)) continue;
    const seen = first.get(s.staff_id);
    if (seen === undefined || ms < seen) first.set(s.staff_id, ms);
  }
  return [...first.entries()]
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .map(([staffId, ms]) => ({ staffId, first: new Date(ms).toISOString() }));
}

/** What the customer may still do to a booking, by the shop's policy (the server decides). */
export interface Allowed {
  cancel: boolean;
  reschedule: boolean;
}

/** What the windows decide about a booking, as the server's `check_policy` does for customers. */
export interface Booking {
  status: string;
  start_time: string;
  expire_time?: string | null;
}

/** A hold still holding its place (the sweeper may not have expired it yet). */
export function isLiveHold(b: Booking, now: number): boolean {
  return b.status === 'held' && instant(b.expire_time) > now;
}

/**
 * Cancel: a live hold always (nothing was promised yet); a confirmed booking only while its start
 * is at least the cancel window away. Reschedule: a live hold or a confirmed booking while its
 * start is at least the reschedule window away.
 */
export function allowed(b: Booking, now: number, p: Policy): Allowed {
  const ahead = instant(b.start_time) - now;
  const open = b.status === 'confirmed' || isLiveHold(b, now);
  return {
    cancel: isLiveHold(b, now) || (b.status === 'confirmed' && ahead >= p.cancelWindowHours * HOUR),
    reschedule: open && ahead >= p.rescheduleWindowHours * HOUR,
  };
}

/** Upcoming: held (live) or confirmed bookings not started yet, soonest first. Past: the rest, latest first. */
export function split<T extends Booking>(list: readonly T[], now: number): { upcoming: T[]; past: T[] } {
  const upcoming: T[] = [];
  const past: T[] = [];
  for (const b of list) {
    const open = b.status === 'confirmed' || isLiveHold(b, now);
    (open && instant(b.start_time) > now ? upcoming : past).push(b);
  }
  upcoming.sort((a, b) => instant(a.start_time) - instant(b.start_time));
  past.sort((a, b) => instant(b.start_time) - instant(a.start_time));
  return { upcoming, past };
}
