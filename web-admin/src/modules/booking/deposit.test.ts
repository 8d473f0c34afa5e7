// A deposit a coupon came off: what it was, what came off and what is left to pay, in both
// languages; the discount lines in the reservation's details.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { create } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import {
  DepositStatus,
  ReservationSchema,
  ReservationStatus,
  type Reservation,
} from '@/gen/minimodules/booking/v1/booking_pb'
import { DepositDiscountSchema } from '@/gen/minimodules/booking/v1/discounts_pb'
import { i18n } from '@/locales'
import { loggedIn } from '@/stores/testing'
import { useLocaleStore } from '@/stores/locale'
import { depositDiscountKind, depositDiscountKindKey, depositSummary, discountedDeposit } from './deposit'
import ReservationDetails from './ReservationDetails.vue'

const say = (k: string, p?: Record<string, unknown>) => i18n.global.t(k, p ?? {})
const zh = (z: string, e: string) => z || e
const en = (z: string, e: string) => e || z

const coupon = (amountFen: bigint, labelZh = '定金立减10元', labelEn = '¥10 off the deposit') =>
  create(DepositDiscountSchema, { source: 'tenants/t/coupons/c1', kind: 'COUPON', labelZh, labelEn, amountFen })

/** A salon booking of a ¥88 service asking a ¥30 deposit, `discounts` taken off it. */
function booking(init: Partial<Omit<Reservation, '$typeName' | '$unknown'>> = {}): Reservation {
  const start = Date.UTC(2026, 11, 8, 2)
  return create(ReservationSchema, {
    name: 'tenants/t/reservations/r1',
    service: 'tenants/t/services/s1',
    staff: 'tenants/t/staff/a',
    customer: 'tenants/t/users/u1',
    status: ReservationStatus.HELD,
    startTime: timestampFromMs(start),
    endTime: timestampFromMs(start + 3_600_000),
    expireTime: timestampFromMs(start - 3_600_000),
    createTime: timestampFromMs(start - 86_400_000),
    localStart: '2026-12-08 10:00',
    priceFen: 8_800n,
    depositFen: 2_000n,
    depositDiscountFen: 1_000n,
    depositStatus: DepositStatus.UNPAID,
    discounts: [coupon(1_000n)],
    ...init,
  })
}

afterEach(() => {
  i18n.global.locale.value = 'zh-CN'
})

describe('discountedDeposit', () => {
  it('puts back together the deposit asked, what came off and what is left to pay', () => {
    const d = discountedDeposit(booking())
    expect(d).toMatchObject({ grossFen: 3_000n, discountFen: 1_000n, dueFen: 2_000n })
    expect(d?.lines).toHaveLength(1)
  })

  it('has a coupon worth the whole deposit leave nothing to pay', () => {
    const r = booking({ depositFen: 0n, depositDiscountFen: 3_000n, depositStatus: DepositStatus.NONE })
    r.discounts = [coupon(3_000n, '定金全免', 'Deposit waived')]
    expect(discountedDeposit(r)).toMatchObject({ grossFen: 3_000n, discountFen: 3_000n, dueFen: 0n })
  })

  it('adds the lines up when the total is not given, and is nothing without discounts', () => {
    expect(discountedDeposit(booking({ depositDiscountFen: 0n }))?.discountFen).toBe(1_000n)
    expect(discountedDeposit(booking({ depositDiscountFen: 0n, discounts: [] }))).toBeNull()
    expect(discountedDeposit(booking({ depositFen: 0n, depositDiscountFen: 0n, discounts: [] }))).toBeNull()
  })
})

describe('depositSummary', () => {
  it('reads "定金 ¥30.00，优惠券 -¥10.00，应付 ¥20.00" in Chinese', () => {
    expect(depositSummary(discountedDeposit(booking())!, say, zh)).toBe('定金 ¥30.00，优惠券 -¥10.00，应付 ¥20.00')
  })

  it('reads the same in English', () => {
    i18n.global.locale.value = 'en-US'
    expect(depositSummary(discountedDeposit(booking())!, say, en)).toBe(
      'Deposit ¥30.00 · Coupon -¥10.00 · To pay ¥20.00',
    )
  })

  it("adds up one kind's lines, words an unknown kind by the server's label, and shows what no line explains", () => {
    const r = booking({ depositFen: 500n, depositDiscountFen: 2_800n })
    r.discounts = [
      coupon(1_000n),
      coupon(500n, '定金立减5元', '¥5 off'),
      create(DepositDiscountSchema, { kind: 'GIFT_CARD', labelZh: '礼品卡', labelEn: 'Gift card', amountFen: 800n }),
    ]
    // ¥33 asked: ¥15 of coupons, ¥8 of gift card, ¥5 unexplained, ¥5 to pay.
    expect(depositSummary(discountedDeposit(r)!, say, zh)).toBe(
      '定金 ¥33.00，优惠券 -¥15.00，礼品卡 -¥8.00，优惠 -¥5.00，应付 ¥5.00',
    )
  })

  it('names the kinds it knows in its own words, others by the label sent', () => {
    expect(['COUPON', 'POINTS', ''].map(depositDiscountKindKey)).toEqual(['coupon', undefined, undefined])
    i18n.global.locale.value = 'en-US'
    expect(depositDiscountKind(coupon(1n), say, en)).toBe('Coupon')
    const odd = create(DepositDiscountSchema, { kind: 'GIFT_CARD', labelZh: '礼品卡', labelEn: '' })
    expect(depositDiscountKind(odd, say, en)).toBe('礼品卡')
    expect(depositDiscountKind(create(DepositDiscountSchema, { kind: 'GIFT_CARD' }), say, en)).toBe('GIFT_CARD')
  })
})

describe('ReservationDetails', () => {
  beforeEach(() => {
    localStorage.clear()
  })

  const details = (r: Reservation) =>
    mount(ReservationDetails, {
      props: { reservation: r, manage: false, now: Date.UTC(2026, 11, 1), busy: '' },
      global: { plugins: [loggedIn(), i18n, ElementPlus] },
    })

  it('shows the deposit with its coupon and what is left to pay, and the coupon line', () => {
    const w = details(booking())
    expect(w.find('[data-test="details-deposit-summary"]').text()).toBe('定金 ¥30.00，优惠券 -¥10.00，应付 ¥20.00')
    expect(w.find('[data-test="details-deposit"]').text()).toBe('待支付')
    const lines = w.findAll('[data-test="details-discount"]')
    expect(lines).toHaveLength(1)
    expect(lines[0]!.find('[data-test="details-discount-kind"]').text()).toBe('优惠券')
    expect(lines[0]!.text()).toContain('定金立减10元')
    expect(lines[0]!.text()).toContain('-¥10.00')
    w.unmount()
  })

  it('shows a deposit a coupon paid in full, in English', () => {
    useLocaleStore().set('en-US')
    const r = booking({ depositFen: 0n, depositDiscountFen: 3_000n, depositStatus: DepositStatus.NONE })
    r.discounts = [coupon(3_000n, '定金全免', 'Deposit waived')]
    const w = details(r)
    expect(w.find('[data-test="details-deposit-summary"]').text()).toBe(
      'Deposit ¥30.00 · Coupon -¥30.00 · To pay ¥0.00',
    )
    expect(w.find('[data-test="details-deposit"]').exists()).toBe(false)
    expect(w.find('[data-test="details-discount"]').text()).toContain('Deposit waived')
    w.unmount()
  })

  it('shows a plain deposit as before, and no deposit row without one', () => {
    const plain = details(booking({ depositFen: 3_000n, depositDiscountFen: 0n, discounts: [] }))
    expect(plain.find('[data-test="details-deposit-summary"]').exists()).toBe(false)
    expect(plain.text()).toContain('¥30.00')
    expect(plain.find('[data-test="details-discount"]').exists()).toBe(false)
    plain.unmount()
    const none = details(booking({ depositFen: 0n, depositDiscountFen: 0n, discounts: [], depositStatus: 0 }))
    expect(none.text()).not.toContain('定金')
    none.unmount()
  })
})
