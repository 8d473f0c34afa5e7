import { describe, expect, it } from 'vitest'
import {
  addDays,
  daysBetween,
  formatHm,
  isDate,
  isoWeekday,
  localDate,
  localLabel,
  localMinute,
  localToUtc,
  parseHm,
  toMs,
  weekDates,
  weekStart,
} from './time'

// Minutes east of UTC, as the server sends them with the booking settings.
const SHANGHAI = 480
const TOKYO = 540

describe('local dates and minutes', () => {
  it('puts an instant late in the UTC day on the next local date', () => {
    const t = Date.parse('2026-03-01T17:30:00Z')
    expect(localDate(t, SHANGHAI)).toBe('2026-03-02')
    expect(localMinute(t, SHANGHAI)).toBe(90) // 01:30
    expect(localDate(t, 0)).toBe('2026-03-01')
    expect(localLabel(t, TOKYO)).toBe('2026-03-02 02:30')
  })

  it('turns a local date and minute into the UTC instant, across the date line', () => {
    expect(new Date(localToUtc('2026-03-02', 90, SHANGHAI)).toISOString()).toBe('2026-03-01T17:30:00.000Z')
    expect(new Date(localToUtc('2026-01-01', 0, TOKYO)).toISOString()).toBe('2025-12-31T15:00:00.000Z')
    // A minute past midnight runs into the next day.
    expect(localToUtc('2026-01-01', 1440 + 60, SHANGHAI)).toBe(localToUtc('2026-01-02', 60, SHANGHAI))
  })

  it('round-trips every quarter hour of a day', () => {
    for (let m = 0; m < 1440; m += 15) {
      const t = localToUtc('2026-07-15', m, SHANGHAI)
      expect([localDate(t, SHANGHAI), localMinute(t, SHANGHAI)]).toEqual(['2026-07-15', m])
    }
  })

  it('is independent of the browser zone: a pre-epoch instant works too', () => {
    const t = localToUtc('1969-12-31', 600, SHANGHAI)
    expect(localMinute(t, SHANGHAI)).toBe(600)
    expect(localDate(t, SHANGHAI)).toBe('1969-12-31')
  })
})

describe('calendar arithmetic', () => {
  it('adds days across months, leap days and years', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29')
    expect(addDays('2027-02-28', 1)).toBe('2027-03-01')
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31')
    expect(daysBetween('2026-01-30', '2026-03-01')).toBe(30)
  })

  it('knows ISO weekdays and the Monday of a week', () => {
    expect(isoWeekday('2026-11-23')).toBe(1) // a Monday
    expect(isoWeekday('2026-11-29')).toBe(7)
    expect(weekStart('2026-11-29')).toBe('2026-11-23')
    expect(weekStart('2026-11-23')).toBe('2026-11-23')
    expect(weekDates('2026-12-28')).toEqual([
      '2026-12-28',
      '2026-12-29',
      '2026-12-30',
      '2026-12-31',
      '2027-01-01',
      '2027-01-02',
      '2027-01-03',
    ])
  })

  it('rejects malformed and impossible dates', () => {
    expect(isDate('2026-02-29')).toBe(false)
    expect(isDate('2026-2-3')).toBe(false)
    expect(isDate('')).toBe(false)
    expect(isDate('2028-02-29')).toBe(true)
  })
})

describe('HH:MM', () => {
  it('parses like the server: 24:00 ends the day, nothing past it', () => {
    expect(parseHm('09:30')).toBe(570)
    expect(parseHm('24:00')).toBe(1440)
    expect(parseHm('24:30')).toBeUndefined()
    expect(parseHm('9:30')).toBeUndefined()
    expect(parseHm('10:60')).toBeUndefined()
  })

  it('formats minutes', () => {
    expect(formatHm(0)).toBe('00:00')
    expect(formatHm(1005)).toBe('16:45')
    expect(formatHm(1440)).toBe('24:00')
  })

  it('reads protobuf timestamps', () => {
    expect(toMs({ seconds: 1_700_000_000n, nanos: 250_000_000 })).toBe(1_700_000_000_250)
    expect(toMs(undefined)).toBeNaN()
  })
})

describe('malformed dates', () => {
  it('stay malformed instead of throwing RangeError: Invalid time value', () => {
    expect(() => weekDates(weekStart(''))).not.toThrow()
    expect(weekDates(weekStart(''))).toEqual([])
    expect(addDays('2026-02-30', 1)).toBe('')
    expect(localDate(Number.NaN, 480)).toBe('')
  })
})
