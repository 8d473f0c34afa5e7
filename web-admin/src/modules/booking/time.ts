// Dates and times in the shop's time zone, without the browser's own zone anywhere: the booking
// schedule is local to the shop ("Tuesdays 09:00–18:00"), everything on the wire is UTC. The
// zone's offset comes from the server with the booking settings (settings.ts).

const MINUTE = 60_000
const DAY_MINUTES = 1440

/** "YYYY-MM-DD" → days since 1970-01-01, or NaN when malformed. */
function dayNumber(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  if (!m) return NaN
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const ms = Date.UTC(y, mo - 1, d)
  const back = new Date(ms)
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return NaN
  return ms / (DAY_MINUTES * MINUTE)
}

/** The date of a day number; "" for none (a malformed date stays malformed, never a RangeError). */
function dateOfDay(n: number): string {
  return Number.isFinite(n) ? new Date(n * DAY_MINUTES * MINUTE).toISOString().slice(0, 10) : ''
}

/** Whether `date` is a real "YYYY-MM-DD" day. */
export function isDate(date: string): boolean {
  return !Number.isNaN(dayNumber(date))
}

/** The local date of an instant. */
export function localDate(ms: number, offset: number): string {
  const local = ms + offset * MINUTE
  return Number.isFinite(local) ? new Date(local).toISOString().slice(0, 10) : ''
}

/** Minutes after local midnight of an instant. */
export function localMinute(ms: number, offset: number): number {
  const local = ms + offset * MINUTE
  return Math.floor((((local % (DAY_MINUTES * MINUTE)) + DAY_MINUTES * MINUTE) % (DAY_MINUTES * MINUTE)) / MINUTE)
}

/** The instant of a local date and minute of day (the minute may run past 1440 into the next day). */
export function localToUtc(date: string, minute: number, offset: number): number {
  return (dayNumber(date) * DAY_MINUTES + minute - offset) * MINUTE
}

/** The date `n` days after `date` (before, when negative). */
export function addDays(date: string, n: number): string {
  return dateOfDay(dayNumber(date) + n)
}

/** Days from `a` to `b`. */
export function daysBetween(a: string, b: string): number {
  return dayNumber(b) - dayNumber(a)
}

/** ISO weekday of a date: 1 is Monday, 7 is Sunday. */
export function isoWeekday(date: string): number {
  // 1970-01-01 was a Thursday (4).
  return ((((dayNumber(date) + 3) % 7) + 7) % 7) + 1
}

/** The Monday of the week `date` is in. */
export function weekStart(date: string): string {
  return addDays(date, 1 - isoWeekday(date))
}

/** The seven dates of the week starting on `monday`. */
export function weekDates(monday: string): string[] {
  return isDate(monday) ? Array.from({ length: 7 }, (_, i) => addDays(monday, i)) : []
}

/** Minutes after midnight as "HH:MM" ("24:00" for the end of the day). */
export function formatHm(minute: number): string {
  const h = Math.floor(minute / 60)
  const m = minute % 60
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`
}

/** "HH:MM" (and "24:00") as minutes after midnight; undefined when malformed, like the server. */
export function parseHm(s: string): number | undefined {
  const m = /^(\d{2}):(\d{2})$/.exec(s)
  if (!m) return undefined
  const [h, min] = [Number(m[1]), Number(m[2])]
  if (min >= 60 || h > 24 || (h === 24 && min !== 0)) return undefined
  return h * 60 + min
}

/** "YYYY-MM-DD HH:MM" of an instant in the shop's zone. */
export function localLabel(ms: number, offset: number): string {
  return `${localDate(ms, offset)} ${formatHm(localMinute(ms, offset))}`
}

/** A protobuf Timestamp (seconds and nanos) as milliseconds since the epoch. */
export function toMs(ts: { seconds: bigint; nanos?: number } | undefined): number {
  if (!ts) return NaN
  return Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)
}
