// A member between the wire and the screen: their name, the way to the next level by spend or by
// points, a points entry in words, and the adjust form to the delta sent.
import { describe, expect, it } from 'vitest'
import { create } from '@bufbuild/protobuf'
import { CouponState, MemberLevelSchema, MemberSchema } from '@/gen/minimodules/marketing/v1/coupon_pb'
import { i18n } from '@/locales'
import {
  ENTRY_KIND_TAG,
  adjustProblems,
  blankAdjust,
  couponStateOf,
  deltaOf,
  entryKindKey,
  levelsByOf,
  memberOf,
  progressOf,
  signedPoints,
  spentOn,
  spentOnText,
  type AdjustForm,
} from './members'

const say = (k: string, p?: Record<string, unknown>) => i18n.global.t(k, p ?? {})
const level = (nameZh: string, threshold: bigint) => create(MemberLevelSchema, { nameZh, threshold })
const member = (init: { spend?: bigint; points?: bigint; level?: bigint; next?: bigint }) =>
  create(MemberSchema, {
    name: 'tenants/t/members/u1',
    customer: 'tenants/t/users/u1',
    lifetimeSpendFen: init.spend ?? 0n,
    lifetimePoints: init.points ?? 0n,
    level: init.level === undefined ? undefined : level('银卡', init.level),
    nextLevel: init.next === undefined ? undefined : level('金卡', init.next),
  })

describe('memberOf', () => {
  it("names a customer's member by the same user id", () => {
    expect(memberOf('tenants/t/users/u1')).toBe('tenants/t/members/u1')
  })
})

describe('levelsByOf', () => {
  it('reads the config as stored, and nothing else', () => {
    expect(levelsByOf({ levels_by: 'points', levels: [] })).toBe('points')
    expect(levelsByOf({ levels_by: 'spend' })).toBe('spend')
    expect(levelsByOf({ levels_by: 'visits' })).toBeUndefined()
    expect(levelsByOf(undefined)).toBeUndefined()
  })
})

describe('progressOf', () => {
  it('measures spend from the level reached to the next one', () => {
    // 银卡 at ¥100, 金卡 at ¥500, ¥300 spent: half way, ¥200 to go.
    const p = progressOf(member({ spend: 30_000n, points: 7n, level: 10_000n, next: 50_000n }), 'spend')
    expect(p).toMatchObject({ by: 'spend', reached: 30_000n, from: 10_000n, to: 50_000n, remaining: 20_000n })
    expect(p?.percent).toBe(50)
  })

  it('measures points from zero below the first level', () => {
    const p = progressOf(member({ spend: 99_999n, points: 30n, next: 90n }), 'points')
    expect(p).toMatchObject({ from: 0n, remaining: 60n })
    expect(p?.percent).toBeCloseTo(33.3)
  })

  it('keeps the bar between empty and full whatever the numbers', () => {
    // A refund can leave the lifetime below the level the server still names, and the settings
    // may have moved the levels since.
    expect(progressOf(member({ spend: 5n, level: 100n, next: 200n }), 'spend')?.percent).toBe(0)
    expect(progressOf(member({ spend: 900n, level: 100n, next: 200n }), 'spend')).toMatchObject({
      percent: 100,
      remaining: 0n,
    })
  })

  it('has nothing to show at the top, or when the settings could not be read', () => {
    expect(progressOf(member({ spend: 900n, level: 100n }), 'spend')).toBeNull()
    expect(progressOf(member({ spend: 50n, next: 100n }), undefined)).toBeNull()
  })
})

describe('entries', () => {
  const KINDS = ['ORDER_PAID', 'ORDER_REFUNDED', 'ORDER_SPENT', 'ORDER_RETURNED', 'BOOKING_COMPLETED', 'ADJUSTED']

  it('words the kinds this build knows and signs the change', () => {
    expect([...KINDS, 'EXPIRED', '', 'toString'].map(entryKindKey)).toEqual([
      'orderPaid',
      'orderRefunded',
      'orderSpent',
      'orderReturned',
      'bookingCompleted',
      'adjusted',
      undefined,
      undefined,
      undefined,
    ])
    expect([signedPoints(50n), signedPoints(-20n), signedPoints(0n)]).toEqual(['+50', '-20', '0'])
  })

  it('names every kind of the ledger in both languages, with a tag colour', () => {
    const words = (locale: 'zh-CN' | 'en-US') => {
      i18n.global.locale.value = locale
      return KINDS.map((k) => say(`marketing.members.kinds.${entryKindKey(k)}`))
    }
    expect(words('zh-CN')).toEqual(['消费获得', '退款扣回', '积分抵扣', '积分退回', '预约完成', '人工调整'])
    expect(words('en-US')).toEqual([
      'Earned on an order',
      'Taken back on a refund',
      'Paid with points',
      'Points returned',
      'Booking completed',
      'Adjusted',
    ])
    i18n.global.locale.value = 'zh-CN'
    expect(KINDS.map((k) => ENTRY_KIND_TAG[entryKindKey(k)!])).toEqual([
      'success',
      'warning',
      'primary',
      'warning',
      'success',
      'info',
    ])
  })
})

describe('what a coupon went to', () => {
  const numbers = new Map([['tenants/t/orders/o1', 'A0012']])
  const starts = new Map([['tenants/t/reservations/r1', '2026-12-08 10:00']])

  it('tells an order from a booking by the name', () => {
    expect(spentOn('tenants/t/orders/o1')).toEqual({ kind: 'order', id: 'o1' })
    expect(spentOn('tenants/t/reservations/r1')).toEqual({ kind: 'reservation', id: 'r1' })
    expect(spentOn('')).toBeUndefined()
    expect(spentOn('tenants/t/coupons/c1')).toBeUndefined()
    expect(spentOn('tenants/t/orders/o1/extra')).toBeUndefined()
  })

  it('words an order by its number and a booking by when it is, each by its id until read', () => {
    const text = (name: string) => spentOnText(name, say, numbers, starts)
    expect(text('tenants/t/orders/o1')).toBe('订单 A0012')
    expect(text('tenants/t/orders/o2')).toBe('订单 o2')
    expect(text('tenants/t/reservations/r1')).toBe('预约 2026-12-08 10:00')
    expect(text('tenants/t/reservations/r2')).toBe('预约 r2')
    // A points entry of a completed booking names no order.
    expect(text('')).toBe('')
    i18n.global.locale.value = 'en-US'
    expect(text('tenants/t/reservations/r1')).toBe('Booking 2026-12-08 10:00')
    expect(text('tenants/t/orders/o1')).toBe('Order A0012')
    i18n.global.locale.value = 'zh-CN'
  })

  it("words a coupon's state", () => {
    expect(
      [CouponState.AVAILABLE, CouponState.LOCKED, CouponState.USED, CouponState.EXPIRED].map(
        (s) => couponStateOf(s)?.key,
      ),
    ).toEqual(['available', 'locked', 'used', 'expired'])
    expect(couponStateOf(CouponState.UNSPECIFIED)).toBeUndefined()
  })
})

describe('the adjust form', () => {
  const form = (f: Partial<AdjustForm>): AdjustForm => ({ ...blankAdjust(), ...f })

  it('adds or takes the amount typed', () => {
    expect(deltaOf(form({ amount: 50 }))).toBe(50n)
    expect(deltaOf(form({ direction: 'take', amount: 120 }))).toBe(-120n)
    expect(deltaOf(form({ amount: undefined }))).toBe(0n)
    expect(deltaOf(form({ amount: null }))).toBe(0n)
  })

  it('wants a whole amount within the limit and a reason before sending', () => {
    expect(adjustProblems(form({ amount: 50, reason: '老顾客回馈' }), say)).toEqual({})
    expect(adjustProblems(form({ amount: 1_000_000, direction: 'take', reason: 'x' }), say)).toEqual({})
    expect(adjustProblems(blankAdjust(), say)).toEqual({
      delta: '每次可调整 1 到 1000000 积分',
      reason: '请填写调整原因',
    })
    expect(adjustProblems(form({ amount: 1_000_001, reason: '  ' }), say)).toEqual({
      delta: '每次可调整 1 到 1000000 积分',
      reason: '请填写调整原因',
    })
    expect(Object.keys(adjustProblems(form({ amount: 1.5, reason: 'x' }), say))).toEqual(['delta'])
  })
})
