// The booking calendar's rules, kept out of the view so they are tested without a browser: its
// columns (one per resource on a day, one per date in a week), the hours it shows, where each
// reservation sits (overlapping ones side by side in lanes), which status steps staff may take,
// and where a dragged reservation lands (snapped to the shop's slot grid, in its time zone).
import {
  DepositStatus,
  ReservationStatus,
  type Reservation,
  type Staff,
  type WeeklyHours,
} from '@/gen/minimodules/booking/v1/booking_pb'
import { addDays, isoWeekday, localDate, localMinute, localToUtc, parseHm, toMs, weekDates } from './time'

export type ViewMode = 'day' | 'week'

export interface Column {
  /** Unique within the view. */
  key: string
  date: string
  /** The resource of a day-view column; "" in week view, where a column holds every resource. */
  staff: string
}

/** One column per resource on `date`, plus one for each resource a reservation names that is not listed (deleted). */
export function dayColumns(date: string, staff: readonly Pick<Staff, 'name'>[], reservations: readonly Reservation[]) {
  const names = staff.map((s) => s.name)
  for (const r of reservations) if (r.staff && !names.includes(r.staff)) names.push(r.staff)
  return names.map((name): Column => ({ key: `${date}|${name}`, date, staff: name }))
}

/** One column per day of the week starting on `monday`. */
export function weekColumns(monday: string): Column[] {
  return weekDates(monday).map((date) => ({ key: date, date, staff: '' }))
}

export interface Range {
  /** First minute after local midnight shown. */
  start: number
  /** Minute after local midnight where the view ends. */
  end: number
}

/**
 * The hours to show: from the earliest opening to the latest closing of the resources on the
 * shown weekdays, widened to every reservation shown, in whole hours; 09:00–18:00 when nothing
 * says otherwise.
 */
export function visibleRange(
  staff: readonly Pick<Staff, 'weeklyHours'>[],
  dates: readonly string[],
  reservations: readonly Reservation[],
  offset: number,
): Range {
  let lo = Infinity
  let hi = -Infinity
  const weekdays = new Set(dates.map(isoWeekday))
  for (const s of staff) {
    for (const d of s.weeklyHours) {
      if (!weekdays.has(d.weekday)) continue
      for (const w of d.windows) {
        const a = parseHm(w.start)
        const b = parseHm(w.end)
        if (a === undefined || b === undefined) continue
        lo = Math.min(lo, a)
        hi = Math.max(hi, b)
      }
    }
  }
  for (const r of reservations) {
    const start = toMs(r.startTime)
    if (!dates.includes(localDate(start, offset))) continue
    const a = localMinute(start, offset)
    lo = Math.min(lo, a)
    hi = Math.max(hi, Math.min(1440, a + Math.ceil((toMs(r.endTime) - start) / 60_000)))
  }
  if (!Number.isFinite(lo)) return { start: 9 * 60, end: 18 * 60 }
  return { start: Math.floor(lo / 60) * 60, end: Math.min(1440, Math.ceil(hi / 60) * 60) }
}

export interface Block {
  reservation: Reservation
  column: string
  /** Minutes from the range's start to the reservation's start (clipped to the range). */
  top: number
  /** Minutes shown (at least one slot's worth is up to the view). */
  height: number
  /** Lane within its group of overlapping reservations, and the group's lane count. */
  lane: number
  lanes: number
}

/** Where each reservation sits; ones outside the shown columns or hours are left out. */
export function layoutBlocks(
  reservations: readonly Reservation[],
  columns: readonly Column[],
  range: Range,
  offset: number,
): Block[] {
  const blocks: Block[] = []
  for (const r of reservations) {
    const startMs = toMs(r.startTime)
    const date = localDate(startMs, offset)
    const col = columns.find((c) => c.date === date && (c.staff === '' || c.staff === r.staff))
    if (!col) continue
    const a = localMinute(startMs, offset)
    const b = Math.min(1440, a + Math.max(1, Math.round((toMs(r.endTime) - startMs) / 60_000)))
    const top = Math.max(a, range.start)
    const bottom = Math.min(b, range.end)
    if (bottom <= top) continue
    blocks.push({ reservation: r, column: col.key, top: top - range.start, height: bottom - top, lane: 0, lanes: 1 })
  }
  for (const col of columns) assignLanes(blocks.filter((b) => b.column === col.key))
  return blocks
}

/**
 * Puts overlapping blocks side by side: sorted by start, each takes the first lane free at its
 * start; a group of blocks that overlap one another, directly or through others, shares a lane
 * count so they all have the same width.
 */
export function assignLanes(blocks: Block[]): void {
  const sorted = [...blocks].sort((a, b) => a.top - b.top || b.height - a.height)
  let group: Block[] = []
  let groupEnd = -Infinity
  let laneEnds: number[] = []
  const close = () => {
    for (const b of group) b.lanes = laneEnds.length
    group = []
    groupEnd = -Infinity
    laneEnds = []
  }
  for (const b of sorted) {
    if (b.top >= groupEnd) close()
    let lane = laneEnds.findIndex((end) => end <= b.top)
    if (lane < 0) lane = laneEnds.push(0) - 1
    laneEnds[lane] = b.top + b.height
    b.lane = lane
    group.push(b)
    groupEnd = Math.max(groupEnd, b.top + b.height)
  }
  close()
}

/**
 * The closed parts of a column, in minutes from the range's start: outside the resource's hours
 * on that weekday (`hours` null: not known, nothing closed for that reason), in its breaks, and in
 * time off (`offs`, UTC milliseconds).
 */
export function closedBands(
  hours: readonly WeeklyHours[] | null,
  offs: readonly { start: number; end: number }[],
  date: string,
  range: Range,
  offset: number,
): { top: number; height: number }[] {
  const open = new Array<boolean>(Math.max(0, range.end - range.start)).fill(hours === null)
  const mark = (a: number, b: number, value: boolean) => {
    for (let m = Math.max(a, range.start); m < Math.min(b, range.end); m++) open[m - range.start] = value
  }
  const day = hours?.find((h) => h.weekday === isoWeekday(date))
  const each = (ws: WeeklyHours['windows'] | undefined, value: boolean) => {
    for (const w of ws ?? []) {
      const a = parseHm(w.start)
      const b = parseHm(w.end)
      if (a !== undefined && b !== undefined) mark(a, b, value)
    }
  }
  each(day?.windows, true)
  each(day?.breaks, false)
  const dayStart = localToUtc(date, 0, offset)
  const dayEnd = localToUtc(addDays(date, 1), 0, offset)
  for (const o of offs) {
    if (o.end <= dayStart || o.start >= dayEnd) continue
    mark(
      Math.floor((Math.max(o.start, dayStart) - dayStart) / 60_000),
      Math.ceil((Math.min(o.end, dayEnd) - dayStart) / 60_000),
      false,
    )
  }
  const bands: { top: number; height: number }[] = []
  open.forEach((isOpen, i) => {
    if (isOpen) return
    const last = bands.at(-1)
    if (last && last.top + last.height === i) last.height++
    else bands.push({ top: i, height: 1 })
  })
  return bands
}

export interface Drop {
  /** The column dropped on. */
  column: Column
  /** Pointer position from the top of the column, in minutes of the view. */
  pointerMinutes: number
  /** Where the reservation was grabbed, in minutes from its top. */
  grabMinutes: number
}

/**
 * The new start of a reservation dropped at `drop`: the minute under its top edge snapped to the
 * nearest slot (the grid is anchored at local midnight, as the server's), kept inside the day.
 * The resource is the column's in day view and unchanged ("") in week view.
 */
export function dropTarget(drop: Drop, range: Range, slotMinutes: number, offset: number) {
  const slot = Math.max(5, slotMinutes)
  const raw = range.start + drop.pointerMinutes - drop.grabMinutes
  const snapped = Math.round(raw / slot) * slot
  const minute = Math.min(Math.max(snapped, 0), 1440 - slot)
  return { startMs: localToUtc(drop.column.date, minute, offset), staff: drop.column.staff, minute }
}

/** The reschedule a drop asks for, or null when it would leave the reservation where it is. */
export function moveOf(r: Reservation, target: { startMs: number; staff: string }) {
  const staff = target.staff && target.staff !== r.staff ? target.staff : ''
  if (target.startMs === toMs(r.startTime) && !staff) return null
  return { startMs: target.startMs, staff }
}

/** What a click on a free cell fills in of a walk-in booking. */
export interface BookingPreset {
  date: string
  staff?: string
  /** Local "YYYY-MM-DD HH:MM" to pick when it is free. */
  start?: string
}

export type StatusId = 'held' | 'confirmed' | 'completed' | 'noShow' | 'cancelled' | 'expired'

export const STATUS: Record<ReservationStatus, { id: StatusId; color: string }> = {
  [ReservationStatus.UNSPECIFIED]: { id: 'held', color: '#e6a23c' },
  [ReservationStatus.HELD]: { id: 'held', color: '#e6a23c' },
  [ReservationStatus.CONFIRMED]: { id: 'confirmed', color: '#409eff' },
  [ReservationStatus.COMPLETED]: { id: 'completed', color: '#67c23a' },
  [ReservationStatus.NO_SHOW]: { id: 'noShow', color: '#f56c6c' },
  [ReservationStatus.CANCELLED]: { id: 'cancelled', color: '#909399' },
  [ReservationStatus.EXPIRED]: { id: 'expired', color: '#c0c4cc' },
}

/** Statuses that still hold a place (and so can be moved). */
export function isActive(r: Reservation, nowMs: number): boolean {
  if (r.status === ReservationStatus.CONFIRMED) return true
  return r.status === ReservationStatus.HELD && !(toMs(r.expireTime) <= nowMs)
}

/** The i18n key (booking.deposit.*) of a deposit status; undefined when there is no deposit. */
export function depositKey(r: Reservation): string | undefined {
  switch (r.depositStatus) {
    case DepositStatus.UNPAID:
      return 'unpaid'
    case DepositStatus.PAID:
      return 'paid'
    case DepositStatus.REFUNDING:
      return 'refunding'
    case DepositStatus.REFUNDED:
      return 'refunded'
    default:
      return undefined
  }
}

export type ActionId = 'confirm' | 'complete' | 'noShow' | 'cancel' | 'reschedule' | 'refreshDeposit'

export interface Action {
  id: ActionId
  primary: boolean
  /** Asks for confirmation first. */
  destructive: boolean
}

/**
 * What staff with the manage permission may do with a reservation now, as the server's status
 * table and policy allow (it checks again): confirm a live hold, complete a confirmed booking,
 * record a no-show once it has started, cancel or move anything that still holds a place, and ask
 * WeChat Pay about a deposit still shown unpaid (a missed notification). A hold past its deadline
 * can only be dropped.
 */
export function actionsFor(r: Reservation, manage: boolean, nowMs: number): Action[] {
  if (!manage) return []
  const out: Action[] = []
  const act = (id: ActionId, primary = false, destructive = false) => out.push({ id, primary, destructive })
  const started = toMs(r.startTime) <= nowMs
  if (r.status === ReservationStatus.HELD) {
    if (isActive(r, nowMs)) {
      act('confirm', true)
      act('reschedule')
    }
    if (r.depositStatus === DepositStatus.UNPAID) act('refreshDeposit')
    act('cancel', false, true)
  } else if (r.status === ReservationStatus.CONFIRMED) {
    act('complete', true)
    if (started) act('noShow', false, true)
    act('reschedule')
    act('cancel', false, true)
  }
  return out
}
