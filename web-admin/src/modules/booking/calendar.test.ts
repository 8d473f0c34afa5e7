import { describe, expect, it } from 'vitest'
import { create } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import {
  DepositStatus,
  ReservationSchema,
  ReservationStatus,
  StaffSchema,
  type Reservation,
} from '@/gen/minimodules/booking/v1/booking_pb'
import {
  actionsFor,
  assignLanes,
  closedBands,
  dayColumns,
  depositKey,
  dropTarget,
  layoutBlocks,
  moveOf,
  visibleRange,
  weekColumns,
  type Block,
} from './calendar'
import { localToUtc } from './time'

const SH = 480
const A = 'tenants/t/staff/a'
const B = 'tenants/t/staff/b'

/** A reservation of `minutes` from local `date` `hh:mm` in Shanghai. */
function res(
  name: string,
  staff: string,
  date: string,
  hm: string,
  minutes = 60,
  status = ReservationStatus.CONFIRMED,
) {
  const [h, m] = hm.split(':').map(Number)
  const start = localToUtc(date, (h ?? 0) * 60 + (m ?? 0), SH)
  return create(ReservationSchema, {
    name,
    staff,
    status,
    startTime: timestampFromMs(start),
    endTime: timestampFromMs(start + minutes * 60_000),
    localStart: `${date} ${hm}`,
    expireTime: timestampFromMs(start),
  })
}

const staff = (name: string, weekly: { weekday: number; windows: [string, string][]; breaks?: [string, string][] }[]) =>
  create(StaffSchema, {
    name,
    weeklyHours: weekly.map((d) => ({
      weekday: d.weekday,
      windows: d.windows.map(([start, end]) => ({ start, end })),
      breaks: (d.breaks ?? []).map(([start, end]) => ({ start, end })),
    })),
  })

const block = (top: number, height: number): Block => ({
  reservation: create(ReservationSchema),
  column: 'c',
  top,
  height,
  lane: -1,
  lanes: -1,
})

describe('columns', () => {
  it('has one column per resource on a day, plus resources only reservations name', () => {
    const cols = dayColumns(
      '2026-11-23',
      [{ name: A }, { name: B }],
      [res('r', 'tenants/t/staff/gone', '2026-11-23', '10:00')],
    )
    expect(cols.map((c) => c.staff)).toEqual([A, B, 'tenants/t/staff/gone'])
    expect(new Set(cols.map((c) => c.key)).size).toBe(3)
  })

  it('has a column per day of the week, Monday first', () => {
    const cols = weekColumns('2026-11-23')
    expect(cols.map((c) => c.date)).toEqual([
      '2026-11-23',
      '2026-11-24',
      '2026-11-25',
      '2026-11-26',
      '2026-11-27',
      '2026-11-28',
      '2026-11-29',
    ])
    expect(cols.every((c) => c.staff === '')).toBe(true)
  })
})

describe('visibleRange', () => {
  it('spans the hours of the shown weekdays only, in whole hours', () => {
    const s = [
      staff(A, [
        { weekday: 1, windows: [['09:30', '17:45']] },
        { weekday: 2, windows: [['06:00', '23:00']] },
      ]),
    ]
    // 2026-11-23 is a Monday.
    expect(visibleRange(s, ['2026-11-23'], [], SH)).toEqual({ start: 540, end: 1080 })
  })

  it('widens to reservations outside the hours', () => {
    const s = [staff(A, [{ weekday: 1, windows: [['09:00', '18:00']] }])]
    const r = [res('r', A, '2026-11-23', '19:30', 90)]
    expect(visibleRange(s, ['2026-11-23'], r, SH)).toEqual({ start: 540, end: 1260 })
  })

  it('falls back to office hours with nothing to go on', () => {
    expect(visibleRange([], ['2026-11-23'], [], SH)).toEqual({ start: 540, end: 1080 })
  })
})

describe('layoutBlocks', () => {
  const range = { start: 540, end: 1080 }

  it('puts reservations in their resource column at their local time', () => {
    const cols = dayColumns('2026-11-23', [{ name: A }, { name: B }], [])
    const blocks = layoutBlocks(
      [
        res('r1', A, '2026-11-23', '10:00', 45),
        res('r2', B, '2026-11-23', '09:30', 60),
        res('r3', A, '2026-11-24', '10:00'),
      ],
      cols,
      range,
      SH,
    )
    expect(blocks.map((b) => [b.reservation.name, b.column, b.top, b.height])).toEqual([
      ['r1', `2026-11-23|${A}`, 60, 45],
      ['r2', `2026-11-23|${B}`, 30, 60],
    ])
  })

  it('uses the shop zone, not UTC, for the day a reservation falls on', () => {
    // 07:30 in Shanghai on the 24th is 23:30 UTC on the 23rd.
    const cols = weekColumns('2026-11-23')
    const [b] = layoutBlocks([res('early', A, '2026-11-24', '07:30')], cols, { start: 420, end: 1080 }, SH)
    expect(b?.column).toBe('2026-11-24')
    expect(b?.top).toBe(30)
  })

  it('clips to the shown hours', () => {
    const cols = weekColumns('2026-11-23')
    const [b] = layoutBlocks([res('r', A, '2026-11-23', '17:30', 60)], cols, range, SH)
    expect([b?.top, b?.height]).toEqual([510, 30])
  })

  it('sets overlapping reservations of one column side by side', () => {
    const cols = weekColumns('2026-11-23')
    const blocks = layoutBlocks(
      [
        res('a', A, '2026-11-23', '10:00', 60),
        res('b', B, '2026-11-23', '10:30', 60),
        res('c', A, '2026-11-23', '12:00', 30),
      ],
      cols,
      range,
      SH,
    )
    const by = Object.fromEntries(blocks.map((b) => [b.reservation.name, [b.lane, b.lanes]]))
    expect(by).toEqual({ a: [0, 2], b: [1, 2], c: [0, 1] })
  })
})

describe('assignLanes', () => {
  it('reuses a lane once it is free and gives a chained group one width', () => {
    // a 0–60, b 30–90, c 60–120: c takes a's lane; all three overlap in a chain, so two lanes.
    const [a, b, c, d] = [block(0, 60), block(30, 60), block(60, 60), block(200, 10)]
    assignLanes([c!, a!, d!, b!])
    expect([a, b, c].map((x) => [x!.lane, x!.lanes])).toEqual([
      [0, 2],
      [1, 2],
      [0, 2],
    ])
    expect([d!.lane, d!.lanes]).toEqual([0, 1])
  })

  it('needs three lanes for three at once', () => {
    const bs = [block(0, 30), block(0, 30), block(10, 30)]
    assignLanes(bs)
    expect(bs.map((x) => x.lane).sort()).toEqual([0, 1, 2])
    expect(bs.every((x) => x.lanes === 3)).toBe(true)
  })

  it('does not count touching reservations as overlapping', () => {
    const bs = [block(0, 30), block(30, 30)]
    assignLanes(bs)
    expect(bs.map((x) => [x.lane, x.lanes])).toEqual([
      [0, 1],
      [0, 1],
    ])
  })
})

describe('closedBands', () => {
  const range = { start: 480, end: 1200 } // 08:00–20:00
  const monday = '2026-11-23'

  it('closes what lies outside the hours and in the breaks', () => {
    const h = staff(A, [{ weekday: 1, windows: [['09:00', '18:00']], breaks: [['12:00', '13:00']] }]).weeklyHours
    expect(closedBands(h, [], monday, range, SH)).toEqual([
      { top: 0, height: 60 },
      { top: 240, height: 60 },
      { top: 600, height: 120 },
    ])
  })

  it('closes a whole day off and time off inside the day', () => {
    const h = staff(A, [{ weekday: 2, windows: [['09:00', '18:00']] }]).weeklyHours
    expect(closedBands(h, [], monday, range, SH)).toEqual([{ top: 0, height: 720 }])
    const off = { start: localToUtc(monday, 600, SH), end: localToUtc(monday, 630, SH) }
    expect(closedBands(null, [off], monday, range, SH)).toEqual([{ top: 120, height: 30 }])
  })

  it('with unknown hours, closes nothing but time off', () => {
    expect(closedBands(null, [], monday, range, SH)).toEqual([])
  })
})

describe('dropTarget', () => {
  const range = { start: 540, end: 1080 }
  const col = { key: 'k', date: '2026-11-23', staff: B }

  it('snaps the top edge to the nearest slot and reads it in the shop zone', () => {
    // Grabbed 10 minutes below the top, dropped 74 minutes into the view: top at 09:00 + 64 min.
    const t = dropTarget({ column: col, pointerMinutes: 74, grabMinutes: 10 }, range, 30, SH)
    expect(t.minute).toBe(600) // 10:04 → 10:00
    expect(t.staff).toBe(B)
    expect(new Date(t.startMs).toISOString()).toBe('2026-11-23T02:00:00.000Z')
  })

  it('follows the slot length', () => {
    expect(dropTarget({ column: col, pointerMinutes: 74, grabMinutes: 10 }, range, 15, SH).minute).toBe(600)
    expect(dropTarget({ column: col, pointerMinutes: 80, grabMinutes: 0 }, range, 15, SH).minute).toBe(615)
    expect(dropTarget({ column: col, pointerMinutes: 80, grabMinutes: 0 }, range, 60, SH).minute).toBe(600)
  })

  it('stays inside the day', () => {
    expect(dropTarget({ column: col, pointerMinutes: 5, grabMinutes: 50 }, { start: 0, end: 600 }, 30, SH).minute).toBe(
      0,
    )
    expect(
      dropTarget({ column: col, pointerMinutes: 2000, grabMinutes: 0 }, { start: 0, end: 1440 }, 30, SH).minute,
    ).toBe(1410)
  })

  it('keeps the resource in week view', () => {
    expect(
      dropTarget(
        { column: { key: 'd', date: '2026-11-24', staff: '' }, pointerMinutes: 0, grabMinutes: 0 },
        range,
        30,
        SH,
      ).staff,
    ).toBe('')
  })
})

describe('moveOf', () => {
  const r = res('r', A, '2026-11-23', '10:00')
  const at = (hm: number) => localToUtc('2026-11-23', hm, SH)

  it('is nothing when dropped where it was', () => {
    expect(moveOf(r, { startMs: at(600), staff: A })).toBeNull()
    expect(moveOf(r, { startMs: at(600), staff: '' })).toBeNull()
  })

  it('asks for a new time, a new resource, or both', () => {
    expect(moveOf(r, { startMs: at(660), staff: A })).toEqual({ startMs: at(660), staff: '' })
    expect(moveOf(r, { startMs: at(600), staff: B })).toEqual({ startMs: at(600), staff: B })
    expect(moveOf(r, { startMs: at(630), staff: B })).toEqual({ startMs: at(630), staff: B })
  })
})

describe('actionsFor', () => {
  const ids = (r: Reservation, now: number, manage = true) => actionsFor(r, manage, now).map((a) => a.id)
  const start = (r: Reservation) => Number(r.startTime?.seconds) * 1000

  it('lets staff confirm a live hold, move or drop it', () => {
    const r = res('h', A, '2026-11-23', '10:00', 60, ReservationStatus.HELD)
    r.expireTime = timestampFromMs(start(r) - 60_000)
    expect(ids(r, start(r) - 3_600_000)).toEqual(['confirm', 'reschedule', 'cancel'])
  })

  it('asks WeChat Pay about a deposit still shown unpaid, even once the hold ran out', () => {
    const r = res('h', A, '2026-11-23', '10:00', 60, ReservationStatus.HELD)
    r.depositStatus = DepositStatus.UNPAID
    r.expireTime = timestampFromMs(start(r) - 60_000)
    expect(ids(r, start(r) - 3_600_000)).toEqual(['confirm', 'reschedule', 'refreshDeposit', 'cancel'])
    expect(ids(r, start(r))).toEqual(['refreshDeposit', 'cancel'])
    r.depositStatus = DepositStatus.PAID
    r.status = ReservationStatus.CONFIRMED
    expect(ids(r, start(r) - 1)).not.toContain('refreshDeposit')
  })

  it('names the deposit status only where there is a deposit', () => {
    const r = res('h', A, '2026-11-23', '10:00')
    expect(depositKey(r)).toBeUndefined()
    r.depositStatus = DepositStatus.NONE
    expect(depositKey(r)).toBeUndefined()
    r.depositStatus = DepositStatus.REFUNDING
    expect(depositKey(r)).toBe('refunding')
  })

  it('only drops a hold past its deadline', () => {
    const r = res('h', A, '2026-11-23', '10:00', 60, ReservationStatus.HELD)
    r.expireTime = timestampFromMs(start(r) - 3_600_000)
    expect(ids(r, start(r) - 60_000)).toEqual(['cancel'])
  })

  it('records a no-show only once the booking has started', () => {
    const r = res('c', A, '2026-11-23', '10:00')
    expect(ids(r, start(r) - 1)).toEqual(['complete', 'reschedule', 'cancel'])
    expect(ids(r, start(r))).toEqual(['complete', 'noShow', 'reschedule', 'cancel'])
  })

  it('offers nothing on final statuses or without the manage permission', () => {
    for (const s of [ReservationStatus.COMPLETED, ReservationStatus.NO_SHOW, ReservationStatus.CANCELLED]) {
      expect(ids(res('f', A, '2026-11-23', '10:00', 60, s), 0)).toEqual([])
    }
    expect(ids(res('c', A, '2026-11-23', '10:00'), 0, false)).toEqual([])
  })

  it('asks before the destructive steps', () => {
    const r = res('c', A, '2026-11-23', '10:00')
    const destructive = actionsFor(r, true, start(r))
      .filter((a) => a.destructive)
      .map((a) => a.id)
    expect(destructive).toEqual(['noShow', 'cancel'])
  })
})
