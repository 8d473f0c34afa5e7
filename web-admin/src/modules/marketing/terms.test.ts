// A template's offer in the words a shop owner reads, its validity and numbers, and the create
// form to and from the CouponTemplate message, with the real locale files.
import { afterEach, describe, expect, it } from 'vitest'
import { create } from '@bufbuild/protobuf'
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt'
import {
  CouponKind,
  CouponTemplateSchema,
  CouponTemplateState,
  type CouponTemplate,
} from '@/gen/minimodules/marketing/v1/coupon_pb'
import { i18n } from '@/locales'
import {
  blankForm,
  dayBounds,
  editChanges,
  editFormOf,
  formOf,
  hasOffer,
  localDate,
  offerText,
  percentOffOf,
  percentText,
  shortYuan,
  standing,
  toTemplate,
  usageOf,
  validityText,
  zhe,
  type Say,
} from './terms'

const say: Say = (key, params) => (params ? i18n.global.t(key, params) : i18n.global.t(key))
const template = (init: Parameters<typeof create<typeof CouponTemplateSchema>>[1]): CouponTemplate =>
  create(CouponTemplateSchema, init)

afterEach(() => {
  i18n.global.locale.value = 'zh-CN'
})

describe('offerText', () => {
  it('words each kind as a shop writes it', () => {
    const threshold = template({ kind: CouponKind.THRESHOLD, thresholdFen: 10000n, amountOffFen: 2000n })
    expect(offerText(threshold, say)).toBe('满100减20')
    expect(offerText(template({ kind: CouponKind.PERCENT_OFF, percentOff: 20 }), say)).toBe('8折')
    expect(offerText(template({ kind: CouponKind.AMOUNT_OFF, amountOffFen: 500n }), say)).toBe('立减5元')
    expect(offerText(template({ kind: CouponKind.FREE_ITEM }), say)).toBe('兑换券')
    expect(offerText(template({ kind: CouponKind.FREE_ITEM }), say, '拿铁')).toBe('兑换券：拿铁')
  })

  it('keeps cents only where there are some', () => {
    const t = template({ kind: CouponKind.THRESHOLD, thresholdFen: 9950n, amountOffFen: 1001n })
    expect(offerText(t, say)).toBe('满99.5减10.01')
  })

  it('adds a percentage’s minimum spend and its cap', () => {
    const t = template({ kind: CouponKind.PERCENT_OFF, percentOff: 15, thresholdFen: 5000n, capFen: 3000n })
    expect(offerText(t, say)).toBe('满50享8.5折，最多减30元')
    expect(offerText(template({ kind: CouponKind.AMOUNT_OFF, amountOffFen: 500n, thresholdFen: 3000n }), say)).toBe(
      '满30减5',
    )
    expect(offerText(template({ kind: CouponKind.FREE_ITEM, thresholdFen: 2000n }), say, '薯条')).toBe(
      '兑换券：薯条（满20元可用）',
    )
  })

  it('speaks English in percent, not 折', () => {
    i18n.global.locale.value = 'en-US'
    expect(offerText(template({ kind: CouponKind.PERCENT_OFF, percentOff: 20, capFen: 5000n }), say)).toBe(
      '20% off, up to ¥50',
    )
    expect(offerText(template({ kind: CouponKind.THRESHOLD, thresholdFen: 10000n, amountOffFen: 2000n }), say)).toBe(
      '¥20 off over ¥100',
    )
  })
})

describe('hasOffer', () => {
  it('waits for the amount, the discount or the free item the kind needs', () => {
    expect(hasOffer(template({ kind: CouponKind.THRESHOLD, thresholdFen: 10000n }))).toBe(false)
    expect(hasOffer(template({ kind: CouponKind.THRESHOLD, amountOffFen: 2000n }))).toBe(true)
    expect(hasOffer(template({ kind: CouponKind.AMOUNT_OFF, amountOffFen: 500n }))).toBe(true)
    expect(hasOffer(template({ kind: CouponKind.PERCENT_OFF, percentOff: 0 }))).toBe(false)
    expect(hasOffer(template({ kind: CouponKind.PERCENT_OFF, percentOff: 20 }))).toBe(true)
    expect(hasOffer(template({ kind: CouponKind.FREE_ITEM }))).toBe(false)
    expect(hasOffer(template({ kind: CouponKind.FREE_ITEM, freeProduct: 'tenants/t/products/p' }))).toBe(true)
  })
})

describe('amounts and discounts', () => {
  it('writes yuan without trailing zeros', () => {
    expect([shortYuan(10000n), shortYuan(9950), shortYuan(1), shortYuan(0)]).toEqual(['100', '99.5', '0.01', '0'])
  })

  it('turns percent off into 折 and back', () => {
    expect([zhe(20), zhe(15), zhe(1), zhe(99)]).toEqual(['8', '8.5', '9.9', '0.1'])
    expect([percentOffOf(8), percentOffOf(8.5), percentOffOf(9.9), percentOffOf(0.1)]).toEqual([20, 15, 1, 99])
    // Nothing typed is sent as 0, which the server refuses beside the field.
    expect(percentOffOf(null)).toBe(0)
    expect(percentOffOf(undefined)).toBe(0)
  })
})

describe('validity', () => {
  it('reads fixed dates in local days, both ends included', () => {
    const { start } = dayBounds('2026-03-01')
    const { end } = dayBounds('2026-03-31')
    expect(new Date(start)).toEqual(new Date(2026, 2, 1))
    expect(new Date(end)).toEqual(new Date(2026, 2, 31, 23, 59, 59))
    const t = template({ validFrom: timestampFromMs(start), validUntil: timestampFromMs(end) })
    expect(validityText(t, say)).toBe('2026-03-01 至 2026-03-31')
  })

  it('reads days after claiming', () => {
    expect(validityText(template({ validDays: 7 }), say)).toBe('领取后 7 天内有效')
  })

  it('writes a local date', () => {
    expect(localDate(new Date(2026, 0, 5, 13).getTime())).toBe('2026-01-05')
  })
})

describe('standing and usage', () => {
  const now = new Date(2026, 5, 1).getTime()
  const active = { state: CouponTemplateState.ACTIVE, totalQuantity: 10, claimedCount: 3 }

  it('says stopped before expired before all claimed', () => {
    expect(standing(template(active), now)).toBe('active')
    expect(standing(template({ ...active, claimedCount: 10 }), now)).toBe('soldOut')
    const past = timestampFromMs(now - 1000)
    expect(standing(template({ ...active, claimedCount: 10, validUntil: past }), now)).toBe('expired')
    expect(standing(template({ ...active, state: CouponTemplateState.STOPPED, validUntil: past }), now)).toBe('stopped')
  })

  it('counts what is left, the use rate and the average order', () => {
    const u = usageOf(template({ totalQuantity: 100, claimedCount: 40, usedCount: 10, usedOrderTotalFen: 123450n }))
    expect(u).toEqual({
      claimed: 40,
      total: 100,
      remaining: 60,
      used: 10,
      useRate: 0.25,
      revenueFen: 123450n,
      averageFen: 12345n,
    })
    expect(percentText(u.useRate)).toBe('25%')
    expect(percentText(1 / 3)).toBe('33.3%')
    // Nothing handed out yet: no division by zero, nothing left over a total lowered to the claims.
    const none = usageOf(template({ totalQuantity: 5, claimedCount: 0 }))
    expect([none.useRate, none.averageFen, none.remaining]).toEqual([0, 0n, 5])
  })
})

describe('the create form', () => {
  it('sends a 满100减20 with only the fields its kind uses', () => {
    const f = { ...blankForm(), titleZh: ' 满100减20 ', threshold: 100, amountOff: 20, discount: 8, cap: 9 }
    const t = toTemplate(f)
    expect(t.titleZh).toBe('满100减20')
    expect(t.kind).toBe(CouponKind.THRESHOLD)
    expect([t.thresholdFen, t.amountOffFen, t.percentOff, t.capFen]).toEqual([10000n, 2000n, 0, 0n])
    expect([t.validDays, t.validFrom, t.validUntil]).toEqual([30, undefined, undefined])
    expect([t.totalQuantity, t.perCustomerLimit, t.claimable, t.stackable]).toEqual([100, 1, true, false])
    expect([t.freeProduct, t.freeSkuId]).toEqual(['', ''])
  })

  it('sends a percentage in percent off with its cap and minimum', () => {
    const f = { ...blankForm(), kind: CouponKind.PERCENT_OFF, discount: 8.5, cap: 30, threshold: 50, amountOff: 7 }
    const t = toTemplate(f)
    expect([t.percentOff, t.capFen, t.thresholdFen, t.amountOffFen]).toEqual([15, 3000n, 5000n, 0n])
  })

  it('sends a free item’s product and SKU, and no amounts', () => {
    const f = {
      ...blankForm(),
      kind: CouponKind.FREE_ITEM,
      threshold: 10,
      amountOff: 5,
      freeProduct: 'tenants/t/products/p',
      freeSkuId: 's1',
    }
    const t = toTemplate(f)
    expect([t.freeProduct, t.freeSkuId, t.thresholdFen, t.amountOffFen]).toEqual(['tenants/t/products/p', 's1', 0n, 0n])
  })

  it('sends fixed dates instead of days, and chosen products only when the scope is limited', () => {
    const f = {
      ...blankForm(),
      validity: 'dates' as const,
      dates: ['2026-03-01', '2026-03-31'] as [string, string],
      validDays: 7,
      modules: ['ordering'],
      products: ['tenants/t/products/p'],
      categories: ['tenants/t/categories/c'],
    }
    const all = toTemplate(f)
    expect(all.validDays).toBe(0)
    expect(all.validFrom && timestampMs(all.validFrom)).toBe(new Date(2026, 2, 1).getTime())
    expect(all.validUntil && timestampMs(all.validUntil)).toBe(new Date(2026, 2, 31, 23, 59, 59).getTime())
    expect([all.modules, all.products, all.categories]).toEqual([['ordering'], [], []])
    const some = toTemplate({ ...f, scope: 'some' })
    expect([some.products, some.categories]).toEqual([['tenants/t/products/p'], ['tenants/t/categories/c']])
  })

  it('sends no dates when none were picked, so the server points at the validity', () => {
    const t = toTemplate({ ...blankForm(), validity: 'dates', dates: null })
    expect([t.validFrom, t.validUntil, t.validDays]).toEqual([undefined, undefined, 0])
  })

  it('comes back from a template unchanged (copying one as a new one)', () => {
    const forms = [
      { ...blankForm(), titleZh: '满100减20', threshold: 100, amountOff: 20, modules: ['booking'] },
      { ...blankForm(), kind: CouponKind.PERCENT_OFF, discount: 8.5, cap: 30, threshold: 0 },
      {
        ...blankForm(),
        validity: 'dates' as const,
        dates: ['2026-03-01', '2026-03-31'] as [string, string],
        scope: 'some' as const,
        products: ['tenants/t/products/p'],
        stackable: true,
        claimable: false,
      },
    ]
    for (const f of forms) expect(toTemplate(formOf(toTemplate(f)))).toEqual(toTemplate(f))
  })
})

describe('the edit form', () => {
  const before = template({
    name: 'tenants/t/couponTemplates/c',
    titleZh: '满100减20',
    totalQuantity: 100,
    claimable: true,
    kind: CouponKind.THRESHOLD,
    thresholdFen: 10000n,
  })

  it('sends a changed total alone, by its mask path', () => {
    const change = editChanges(before, { ...editFormOf(before), totalQuantity: 200 })
    expect(change?.paths).toEqual(['total_quantity'])
    expect(change?.template.name).toBe(before.name)
    expect(change?.template.totalQuantity).toBe(200)
  })

  it('names every changed field, and nothing for no change', () => {
    const change = editChanges(before, { ...editFormOf(before), titleZh: '新客专享', claimable: false })
    expect(change?.paths).toEqual(['title_zh', 'claimable'])
    expect(editChanges(before, editFormOf(before))).toBeNull()
    // Spaces around a name are no change.
    expect(editChanges(before, { ...editFormOf(before), titleZh: ' 满100减20 ' })).toBeNull()
  })
})
