// The schedule forms' rules, kept out of the views so they are tested without a browser: a
// resource's weekly hours as seven editable weekdays and back to the contract's WeeklyHours, the
// server's field errors (which index the hours as sent) moved onto the weekday they belong to,
// and a time off's period from what the form picked, read in the shop's time zone.
import type { MessageInitShape } from '@bufbuild/protobuf'
import type { WeeklyHours, WeeklyHoursSchema } from '@/gen/minimodules/booking/v1/booking_pb'
import { addDays, formatHm, isDate, localToUtc, parseHm } from './time'

export interface WindowForm {
  start: string
  end: string
}

export interface DayForm {
  /** ISO weekday, 1 (Monday) to 7 (Sunday). */
  weekday: number
  open: boolean
  windows: WindowForm[]
  breaks: WindowForm[]
}

export const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const

/** The i18n key of an ISO weekday's short name ("booking.weekdays.mon"). */
export function weekdayKey(weekday: number): string {
  return `booking.weekdays.${['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'][weekday - 1] ?? 'mon'}`
}

/** A new resource's week: every day 09:00–18:00, no breaks. */
export function defaultWeek(): DayForm[] {
  return WEEKDAYS.map((weekday) => ({
    weekday,
    open: true,
    windows: [{ start: '09:00', end: '18:00' }],
    breaks: [],
  }))
}

/** The stored schedule as seven weekdays, Monday first; weekdays not listed are closed. */
export function toWeekForm(hours: readonly WeeklyHours[]): DayForm[] {
  return WEEKDAYS.map((weekday) => {
    const d = hours.find((h) => h.weekday === weekday)
    const copy = (ws: readonly WindowForm[] | undefined) => (ws ?? []).map((w) => ({ start: w.start, end: w.end }))
    return {
      weekday,
      open: !!d && d.windows.length > 0,
      windows: d?.windows.length ? copy(d.windows) : [{ start: '09:00', end: '18:00' }],
      breaks: copy(d?.breaks),
    }
  })
}

/** The open weekdays as the contract's WeeklyHours, in weekday order (closed days are left out). */
export function fromWeekForm(days: readonly DayForm[]): MessageInitShape<typeof WeeklyHoursSchema>[] {
  return days
    .filter((d) => d.open)
    .sort((a, b) => a.weekday - b.weekday)
    .map((d) => ({
      weekday: d.weekday,
      windows: d.windows.map((w) => ({ start: w.start.trim(), end: w.end.trim() })),
      breaks: d.breaks.map((w) => ({ start: w.start.trim(), end: w.end.trim() })),
    }))
}

/**
 * Field errors keyed by the index of the hours as sent ("weekly_hours.2.windows.0") moved onto
 * their weekday ("hours.3.windows.0" when the third day sent was Wednesday); other keys stay.
 */
export function hoursErrors(errors: Readonly<Record<string, string>>, sent: readonly { weekday?: number }[]) {
  const out: Record<string, string> = {}
  for (const [key, message] of Object.entries(errors)) {
    const m = /^weekly_hours\.(\d+)(\..*)?$/.exec(key)
    const weekday = m ? sent[Number(m[1])]?.weekday : undefined
    const k = weekday ? `hours.${weekday}${m?.[2] ?? ''}` : key
    out[k] = out[k] ? `${out[k]}; ${message}` : message
  }
  return out
}

/** Copies one weekday's hours onto every other open day. */
export function copyToOpenDays(days: DayForm[], from: number): void {
  const src = days.find((d) => d.weekday === from)
  if (!src) return
  for (const d of days) {
    if (d === src || !d.open) continue
    d.windows = src.windows.map((w) => ({ ...w }))
    d.breaks = src.breaks.map((w) => ({ ...w }))
  }
}

/** "09:00–18:00 (休息 12:00–13:00)" for a day, `breaks` naming the breaks; "" when closed. */
export function daySummary(h: Pick<WeeklyHours, 'windows' | 'breaks'> | undefined, breaks: string): string {
  const list = (ws: readonly { start: string; end: string }[]) => ws.map((w) => `${w.start}–${w.end}`).join(', ')
  const open = list(h?.windows ?? [])
  return open && h?.breaks.length ? `${open} (${breaks} ${list(h.breaks)})` : open
}

/** Times to pick from, every `step` minutes from 00:00 to 24:00. */
export function timeOptions(step = 15): string[] {
  const out: string[] = []
  for (let m = 0; m <= 1440; m += step) out.push(formatHm(m))
  return out
}

/** Whether a picked "HH:MM" is one the server accepts. */
export function isTime(s: string): boolean {
  return parseHm(s.trim()) !== undefined
}

export type TimeOffMode = 'days' | 'hours'

/**
 * A time off's UTC period (milliseconds) from the form: whole days ("YYYY-MM-DD" to
 * "YYYY-MM-DD", both included) or a local "YYYY-MM-DD HH:MM" range, both in the shop's zone.
 * Undefined while the form is incomplete or malformed; the server checks end after start.
 */
export function timeOffPeriod(
  mode: TimeOffMode,
  range: readonly [string, string] | null | undefined,
  offset: number,
): { start: number; end: number } | undefined {
  if (!range) return undefined
  if (mode === 'days') {
    const [a, b] = range
    if (!isDate(a) || !isDate(b)) return undefined
    return { start: localToUtc(a, 0, offset), end: localToUtc(addDays(b, 1), 0, offset) }
  }
  const parse = (s: string) => {
    const [date = '', time = ''] = s.trim().split(/\s+/)
    const minute = parseHm(time)
    return isDate(date) && minute !== undefined ? localToUtc(date, minute, offset) : undefined
  }
  const start = parse(range[0])
  const end = parse(range[1])
  return start === undefined || end === undefined ? undefined : { start, end }
}
