import { describe, expect, it } from 'vitest'
import { create } from '@bufbuild/protobuf'
import { WeeklyHoursSchema } from '@/gen/minimodules/booking/v1/booking_pb'
import {
  copyToOpenDays,
  daySummary,
  fromWeekForm,
  hoursErrors,
  timeOffPeriod,
  timeOptions,
  toWeekForm,
} from './schedule'
import { localToUtc } from './time'

const hours = (weekday: number, windows: [string, string][], breaks: [string, string][] = []) =>
  create(WeeklyHoursSchema, {
    weekday,
    windows: windows.map(([start, end]) => ({ start, end })),
    breaks: breaks.map(([start, end]) => ({ start, end })),
  })

describe('weekly hours form', () => {
  it('shows all seven weekdays, the unlisted ones closed', () => {
    const days = toWeekForm([hours(3, [['10:00', '19:00']], [['12:00', '13:00']])])
    expect(days.map((d) => [d.weekday, d.open])).toEqual([
      [1, false],
      [2, false],
      [3, true],
      [4, false],
      [5, false],
      [6, false],
      [7, false],
    ])
    expect(days[2]?.windows).toEqual([{ start: '10:00', end: '19:00' }])
    expect(days[2]?.breaks).toEqual([{ start: '12:00', end: '13:00' }])
  })

  it('sends only the open days, trimmed, in weekday order', () => {
    const days = toWeekForm([hours(5, [['09:00', '17:00']]), hours(1, [[' 08:00', '12:00 ']])])
    const back = fromWeekForm(days)
    expect(back.map((d) => d.weekday)).toEqual([1, 5])
    expect(back[0]?.windows).toEqual([{ start: '08:00', end: '12:00' }])
  })

  it('keeps a closed day closed after a round trip, even with hours typed in', () => {
    const days = toWeekForm([hours(2, [['09:00', '18:00']])])
    const tuesday = days[1]
    if (!tuesday) throw new Error('no Tuesday')
    tuesday.open = false
    expect(fromWeekForm(days)).toEqual([])
  })

  it('copies one day onto the other open days only, as copies', () => {
    const days = toWeekForm([hours(1, [['09:00', '12:00']], [['10:00', '10:15']]), hours(2, [['13:00', '20:00']])])
    copyToOpenDays(days, 1)
    expect(days[1]?.windows).toEqual([{ start: '09:00', end: '12:00' }])
    expect(days[1]?.breaks).toEqual([{ start: '10:00', end: '10:15' }])
    expect(days[2]?.open).toBe(false)
    days[1]!.windows[0]!.end = '11:00'
    expect(days[0]?.windows[0]?.end).toBe('12:00')
  })

  it('summarises a day with its breaks', () => {
    const split: [string, string][] = [
      ['09:00', '12:00'],
      ['13:00', '18:00'],
    ]
    expect(daySummary(hours(1, split), 'breaks')).toBe('09:00–12:00, 13:00–18:00')
    expect(daySummary(hours(1, [['09:00', '18:00']], [['12:00', '13:00']]), '休息')).toBe(
      '09:00–18:00 (休息 12:00–13:00)',
    )
    expect(daySummary(undefined, 'breaks')).toBe('')
  })

  it('offers times through the end of the day', () => {
    const opts = timeOptions(30)
    expect(opts[0]).toBe('00:00')
    expect(opts.at(-1)).toBe('24:00')
    expect(opts).toHaveLength(49)
  })
})

describe('hoursErrors', () => {
  it('moves errors from the index sent onto the weekday', () => {
    const sent = [{ weekday: 2 }, { weekday: 6 }]
    expect(
      hoursErrors(
        {
          'weekly_hours.1.windows.0': 'bad window',
          'weekly_hours.0.breaks.1': 'bad break',
          weekly_hours: 'each weekday at most once',
          display_name: 'required',
        },
        sent,
      ),
    ).toEqual({
      'hours.6.windows.0': 'bad window',
      'hours.2.breaks.1': 'bad break',
      weekly_hours: 'each weekday at most once',
      display_name: 'required',
    })
  })

  it('leaves an index it cannot place as it is', () => {
    expect(hoursErrors({ 'weekly_hours.4.windows.0': 'x' }, [{ weekday: 1 }])).toEqual({
      'weekly_hours.4.windows.0': 'x',
    })
  })
})

describe('timeOffPeriod', () => {
  const SH = 480

  it('takes whole days from local midnight to the midnight after the last day', () => {
    expect(timeOffPeriod('days', ['2026-10-01', '2026-10-07'], SH)).toEqual({
      start: localToUtc('2026-10-01', 0, SH),
      end: localToUtc('2026-10-08', 0, SH),
    })
    expect(new Date(localToUtc('2026-10-01', 0, SH)).toISOString()).toBe('2026-09-30T16:00:00.000Z')
  })

  it('reads a local time range in the shop zone', () => {
    expect(timeOffPeriod('hours', ['2026-10-01 12:00', '2026-10-01 13:30'], 540)).toEqual({
      start: Date.parse('2026-10-01T03:00:00Z'),
      end: Date.parse('2026-10-01T04:30:00Z'),
    })
  })

  it('is undefined while incomplete or malformed', () => {
    expect(timeOffPeriod('days', null, SH)).toBeUndefined()
    expect(timeOffPeriod('days', ['2026-02-30', '2026-03-01'], SH)).toBeUndefined()
    expect(timeOffPeriod('hours', ['2026-10-01', '2026-10-01 13:00'], SH)).toBeUndefined()
  })
})
