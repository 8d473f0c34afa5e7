// Promotions in a shop owner's words, where each stands, the forms to the Promotion message with
// the server's rules checked first, and the month calendar's bars, with the real locale files.
// Times are built in the local time zone, as the page reads and writes them.
import { afterEach, describe, expect, it } from 'vitest'
import { create } from '@bufbuild/protobuf'
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt'
import {
  PromotionKind,
  PromotionSchema,
  PromotionState,
  PromotionTierSchema,
  type Promotion,
} from '@/gen/minimodules/marketing/v1/promotion_pb'
import { i18n } from '@/locales'
import {
  addMonths,
  blankPromotionForm,
  canEdit,
  canStop,
  checkPromotionEdit,
  checkPromotionForm,
  editFormOfPromotion,
  localDateTime,
  monthCalendar,
  monthKey,
  monthOf,
  monthWindow,
  overlaps,
  parseLocal,
  periodText,
  promotionChanges,
  promotionStatus,
  promotionSummary,
  scopeText,
  toPromotion,
  type PromotionForm,
} from './promotions'
import type { Say } from './terms'

const say: Say = (key, params) => (params ? i18n.global.t(key, params) : i18n.global.t(key))
const at = (y: number, m: number, d: number, h = 0, mi = 0, s = 0) => new Date(y, m - 1, d, h, mi, s).getTime()
const tier = (threshold: bigint, amount: bigint) =>
  create(PromotionTierSchema, { thresholdFen: threshold, amountOffFen: amount })

function promotion(init: Partial<Omit<Promotion, '$typeName' | '$unknown'>> & { start?: number; end?: number } = {}) {
  const { start = at(2026, 12, 1), end = at(2026, 12, 31, 23, 59, 59), ...rest } = init
  return create(PromotionSchema, {
    name: 'tenants/t1/promotions/p',
    titleZh: '午市满减',
    kind: PromotionKind.TIERED,
    tiers: [tier(5000n, 500n), tier(10000n, 1500n)],
    state: PromotionState.ACTIVE,
    startTime: timestampFromMs(start),
    endTime: timestampFromMs(end),
    ...rest,
  })
}

afterEach(() => {
  i18n.global.locale.value = 'zh-CN'
})

describe('promotionSummary', () => {
  it('words tiers as a shop writes them, and a discount in 折', () => {
    expect(promotionSummary(promotion(), say)).toBe('满50减5，满100减15')
    expect(promotionSummary(promotion({ tiers: [tier(9950n, 1001n)] }), say)).toBe('满99.5减10.01')
    const percent = (n: number) => promotion({ kind: PromotionKind.PERCENT_OFF, tiers: [], percentOff: n })
    expect([20, 15, 1, 90].map((n) => promotionSummary(percent(n), say))).toEqual(['8折', '8.5折', '9.9折', '1折'])
  })

  it('speaks English in percent', () => {
    i18n.global.locale.value = 'en-US'
    expect(promotionSummary(promotion(), say)).toBe('¥5 off over ¥50, ¥15 off over ¥100')
    expect(promotionSummary(promotion({ kind: PromotionKind.PERCENT_OFF, percentOff: 20 }), say)).toBe('20% off')
  })
})

describe('scopeText', () => {
  it('counts the products and categories it is limited to', () => {
    const p = (products: number, categories: number) =>
      promotion({
        products: Array.from({ length: products }, (_, i) => `tenants/t1/products/${i}`),
        categories: Array.from({ length: categories }, (_, i) => `tenants/t1/categories/${i}`),
      })
    expect([p(0, 0), p(3, 0), p(0, 2), p(3, 2)].map((x) => scopeText(x, say))).toEqual([
      '全部商品',
      '3 个商品',
      '2 个分类',
      '3 个商品、2 个分类',
    ])
    i18n.global.locale.value = 'en-US'
    expect(scopeText(p(0, 0), say)).toBe('All products')
    expect(scopeText(p(3, 0), say)).toBe('Products: 3')
  })
})

describe('promotionStatus', () => {
  const p = promotion({ start: at(2026, 12, 10), end: at(2026, 12, 20) })

  it('reads the dates against now, the end not included', () => {
    expect(promotionStatus(p, at(2026, 12, 9, 23, 59))).toBe('scheduled')
    expect(promotionStatus(p, at(2026, 12, 10))).toBe('running')
    expect(promotionStatus(p, at(2026, 12, 19, 23, 59))).toBe('running')
    expect(promotionStatus(p, at(2026, 12, 20))).toBe('ended')
  })

  it('says stopped whatever the dates', () => {
    const stopped = promotion({ start: at(2026, 12, 10), end: at(2026, 12, 20), state: PromotionState.STOPPED })
    expect(promotionStatus(stopped, at(2026, 12, 15))).toBe('stopped')
    expect(promotionStatus(stopped, at(2026, 12, 1))).toBe('stopped')
  })

  it('lets a running or scheduled promotion stop, and anything but a stopped one change', () => {
    expect(canStop(p, at(2026, 12, 1))).toBe(true)
    expect(canStop(p, at(2026, 12, 15))).toBe(true)
    expect(canStop(p, at(2026, 12, 25))).toBe(false)
    expect(canEdit(p)).toBe(true)
    const stopped = promotion({ state: PromotionState.STOPPED })
    expect([canStop(stopped, at(2026, 12, 15)), canEdit(stopped)]).toEqual([false, false])
  })

  it('writes the period in local minutes', () => {
    expect(periodText(p, say)).toBe('2026-12-10 00:00 至 2026-12-20 00:00')
  })
})

describe('local times', () => {
  it('reads and writes the pickers’ values', () => {
    const ms = at(2026, 12, 1, 9, 30, 5)
    expect(localDateTime(ms)).toBe('2026-12-01 09:30:05')
    expect(parseLocal('2026-12-01 09:30:05')).toBe(ms)
    expect(parseLocal('2026-12-01 09:30')).toBe(at(2026, 12, 1, 9, 30))
    expect(parseLocal('2026-12-01')).toBe(at(2026, 12, 1))
  })

  it('refuses what is no time', () => {
    expect([parseLocal(''), parseLocal(null), parseLocal('2026-02-30'), parseLocal('soon')]).toEqual([
      NaN,
      NaN,
      NaN,
      NaN,
    ])
  })
})

const NOW = at(2026, 12, 15, 10)
const valid = (init: Partial<PromotionForm> = {}): PromotionForm => ({
  ...blankPromotionForm(NOW),
  titleZh: '满减',
  tiers: [
    { threshold: 50, amountOff: 5 },
    { threshold: 100, amountOff: 15 },
  ],
  ...init,
})

describe('the create form', () => {
  it('starts today and runs a week, one empty tier, the whole menu', () => {
    const f = blankPromotionForm(NOW)
    expect([f.start, f.end]).toEqual(['2026-12-15 00:00:00', '2026-12-21 23:59:59'])
    expect([f.kind, f.tiers, f.scope]).toEqual([PromotionKind.TIERED, [{ threshold: null, amountOff: null }], 'all'])
  })

  it('sends tiers in fen and only the fields its kind uses', () => {
    const p = toPromotion(valid({ titleZh: ' 午市满减 ', discount: 8, tiers: [{ threshold: 19.99, amountOff: 0.1 }] }))
    expect(p.titleZh).toBe('午市满减')
    expect(p.kind).toBe(PromotionKind.TIERED)
    expect(p.tiers.map((x) => [x.thresholdFen, x.amountOffFen])).toEqual([[1999n, 10n]])
    expect(p.percentOff).toBe(0)
    expect(timestampMs(p.startTime!)).toBe(at(2026, 12, 15))
    expect(timestampMs(p.endTime!)).toBe(at(2026, 12, 21, 23, 59, 59))
  })

  it('sends a discount in percent off, without tiers', () => {
    const p = toPromotion(valid({ kind: PromotionKind.PERCENT_OFF, discount: 8.5 }))
    expect([p.percentOff, p.tiers.length]).toEqual([15, 0])
  })

  it('sends chosen products and categories only when the scope is limited', () => {
    const chosen = { products: ['tenants/t1/products/a'], categories: ['tenants/t1/categories/c'] }
    const all = toPromotion(valid({ scope: 'all', ...chosen }))
    expect([all.products, all.categories]).toEqual([[], []])
    const some = toPromotion(valid({ scope: 'some', ...chosen }))
    expect([some.products, some.categories]).toEqual([chosen.products, chosen.categories])
  })

  it('passes a form the server accepts', () => {
    expect(checkPromotionForm(valid(), NOW, say)).toEqual({})
    expect(checkPromotionForm(valid({ kind: PromotionKind.PERCENT_OFF, discount: 1 }), NOW, say)).toEqual({})
    // Started before now is fine; only the end must be ahead.
    expect(checkPromotionForm(valid({ start: '2026-12-01 00:00:00' }), NOW, say)).toEqual({})
  })

  it('checks the titles', () => {
    expect(checkPromotionForm(valid({ titleZh: '  ' }), NOW, say)).toEqual({ title_zh: '请填写活动名称' })
    expect(checkPromotionForm(valid({ titleZh: '满'.repeat(41), titleEn: 'x'.repeat(81) }), NOW, say)).toEqual({
      title_zh: '活动名称最多 40 个字',
      title_en: '英文名称最多 80 个字符',
    })
  })

  it('checks each tier, and that they rise', () => {
    const tiers = (...t: [number | null, number | null][]) =>
      checkPromotionForm(valid({ tiers: t.map(([threshold, amountOff]) => ({ threshold, amountOff })) }), NOW, say)
    const bad = '门槛须在 0.01 到 100 万元之间，减免金额须大于 0 且低于门槛'
    const falling = '门槛和减免金额都须高于上一档'
    expect(tiers()).toEqual({ tiers: '请设置 1 到 5 档满减' })
    expect(tiers([20, 20])).toEqual({ 'tiers.0': bad })
    expect(tiers([null, 5])).toEqual({ 'tiers.0': bad })
    expect(tiers([50, 0])).toEqual({ 'tiers.0': bad })
    expect(tiers([1_000_000.01, 5])).toEqual({ 'tiers.0': bad })
    expect(tiers([1_000_000, 5])).toEqual({})
    expect(tiers([100, 15], [50, 20])).toEqual({ 'tiers.1': falling })
    expect(tiers([50, 5], [100, 5])).toEqual({ 'tiers.1': falling })
    expect(tiers([50, 5], [100, 15], [150, 15], [200, 30])).toEqual({ 'tiers.2': falling })
    // As the server: a tier is compared with the one before even when that one is wrong.
    expect(tiers([50, 5], [50, 60], [100, 15])).toEqual({ 'tiers.1': bad, 'tiers.2': falling })
    const six = Array.from({ length: 6 }, (_, i) => [(i + 1) * 10, i + 1] as [number, number])
    expect(tiers(...six)).toEqual({ tiers: '请设置 1 到 5 档满减' })
  })

  it('checks the discount is 1 to 9.9 折', () => {
    const discount = (d: number | null) =>
      checkPromotionForm(valid({ kind: PromotionKind.PERCENT_OFF, discount: d }), NOW, say).percent_off
    expect([discount(1), discount(9.9), discount(8)]).toEqual([undefined, undefined, undefined])
    expect([discount(0.5), discount(10), discount(null)]).toEqual([
      '折扣须在 1 折到 9.9 折之间',
      '折扣须在 1 折到 9.9 折之间',
      '折扣须在 1 折到 9.9 折之间',
    ])
  })

  it('asks for products or categories when the scope is limited', () => {
    expect(checkPromotionForm(valid({ scope: 'some' }), NOW, say)).toEqual({
      products: '请选择商品或分类，或改为全部商品',
    })
    expect(checkPromotionForm(valid({ scope: 'some', categories: ['tenants/t1/categories/c'] }), NOW, say)).toEqual({})
  })

  it('checks the window as the server does', () => {
    const window = (start: string | null, end: string | null) => checkPromotionForm(valid({ start, end }), NOW, say)
    expect(window(null, null)).toEqual({ start_time: '请选择开始时间', end_time: '请选择结束时间' })
    expect(window('2026-12-20 00:00:00', '2026-12-20 00:00:00')).toEqual({ end_time: '结束时间须晚于开始时间' })
    expect(window('2026-12-20 00:00:00', '2026-12-19 00:00:00')).toEqual({ end_time: '结束时间须晚于开始时间' })
    expect(window('2026-12-01 00:00:00', '2026-12-15 09:59:59')).toEqual({
      end_time: '结束时间已过，请选择以后的时间',
    })
    // 366 days on is the longest.
    expect(window('2026-12-20 00:00:00', localDateTime(at(2026, 12, 20) + 366 * 86_400_000))).toEqual({})
    expect(window('2026-12-20 00:00:00', localDateTime(at(2026, 12, 20) + 366 * 86_400_000 + 1000))).toEqual({
      end_time: '活动最长 366 天',
    })
  })

  it('words its checks in English too', () => {
    i18n.global.locale.value = 'en-US'
    expect(
      checkPromotionForm(valid({ titleZh: '', start: '2026-11-01 00:00:00', end: '2026-12-01 00:00:00' }), NOW, say),
    ).toEqual({
      title_zh: 'Give the promotion a name',
      end_time: 'The end has passed; choose a later time',
    })
  })
})

describe('the edit form', () => {
  const before = promotion({ titleEn: 'Lunch', start: at(2026, 12, 1), end: at(2026, 12, 10, 23, 59, 59) })

  it('sends only what changed, named in the mask', () => {
    const f = editFormOfPromotion(before)
    expect(f).toEqual({
      titleZh: '午市满减',
      titleEn: 'Lunch',
      start: '2026-12-01 00:00:00',
      end: '2026-12-10 23:59:59',
    })
    expect(promotionChanges(before, f)).toBeNull()
    expect(promotionChanges(before, { ...f, titleZh: ' 晚市满减 ' })?.paths).toEqual(['title_zh'])
    const later = promotionChanges(before, { ...f, end: '2026-12-31 23:59:59' })!
    expect(later.paths).toEqual(['end_time'])
    expect(later.promotion.name).toBe(before.name)
    expect(timestampMs(later.promotion.endTime!)).toBe(at(2026, 12, 31, 23, 59, 59))
  })

  it('checks the window only when a date changed', () => {
    const f = editFormOfPromotion(before)
    // Over already: the names may still change.
    const afterwards = at(2027, 1, 5)
    expect(checkPromotionEdit(before, { ...f, titleZh: '新名字' }, afterwards, say)).toEqual({})
    expect(checkPromotionEdit(before, { ...f, end: '2027-01-01 00:00:00' }, afterwards, say)).toEqual({
      end_time: '结束时间已过，请选择以后的时间',
    })
    expect(checkPromotionEdit(before, { ...f, titleZh: '' }, NOW, say)).toEqual({ title_zh: '请填写活动名称' })
  })
})

describe('the month', () => {
  it('moves across years and asks for the whole month', () => {
    const dec = monthOf(at(2026, 12, 15))
    expect(dec).toEqual({ year: 2026, month: 11 })
    expect(addMonths(dec, 1)).toEqual({ year: 2027, month: 0 })
    expect(addMonths({ year: 2027, month: 0 }, -1)).toEqual(dec)
    expect(monthKey(dec)).toBe('2026-12')
    expect(monthWindow(dec)).toEqual({ start: at(2026, 12, 1), end: at(2027, 1, 1) })
  })

  it('tells whether a promotion runs in a window, its end not included', () => {
    const p = promotion({ start: at(2026, 12, 5), end: at(2026, 12, 11) })
    expect(overlaps(p, at(2026, 12, 10), at(2026, 12, 11))).toBe(true)
    expect(overlaps(p, at(2026, 12, 11), at(2026, 12, 12))).toBe(false)
    expect(overlaps(p, at(2026, 12, 4), at(2026, 12, 5))).toBe(false)
  })
})

describe('monthCalendar', () => {
  const dec = { year: 2026, month: 11 }
  const a = promotion({ name: 'a', start: at(2026, 12, 1), end: at(2026, 12, 10, 23, 59, 59) })
  const b = promotion({ name: 'b', start: at(2026, 12, 5, 11), end: at(2026, 12, 6, 14) })
  const c = promotion({ name: 'c', start: at(2026, 12, 8, 12), end: at(2027, 1, 5) })
  const day = (weeks: ReturnType<typeof monthCalendar>, date: string) => weeks.flat().find((d) => d.date === date)!
  const names = (weeks: ReturnType<typeof monthCalendar>, date: string) =>
    day(weeks, date).lanes.map((s) => (s ? `${s.promotion.name}${s.label ? '*' : ''}` : '-'))

  it('lays the month out in weeks from Monday, with the days around it', () => {
    const weeks = monthCalendar(dec, [])
    expect(weeks).toHaveLength(5)
    expect(weeks.every((w) => w.length === 7)).toBe(true)
    expect(weeks[0]![0]).toMatchObject({ date: '2026-11-30', inMonth: false })
    expect(weeks[0]![1]).toMatchObject({ date: '2026-12-01', day: 1, inMonth: true, start: at(2026, 12, 1) })
    expect(weeks[4]![6]).toMatchObject({ date: '2027-01-03', inMonth: false })
    // A month starting on a Monday has no days before it.
    expect(monthCalendar({ year: 2026, month: 5 }, [])[0]![0]!.date).toBe('2026-06-01')
  })

  it('puts each promotion on the days it runs, in one lane a week, titled at its first day of the week', () => {
    const weeks = monthCalendar(dec, [c, b, a])
    expect(names(weeks, '2026-11-30')).toEqual([])
    expect(names(weeks, '2026-12-01')).toEqual(['a*', '-'])
    expect(names(weeks, '2026-12-05')).toEqual(['a', 'b*'])
    expect(names(weeks, '2026-12-06')).toEqual(['a', 'b'])
    // The next week: a carries on in the first lane, c takes the second.
    expect(names(weeks, '2026-12-07')).toEqual(['a*', '-'])
    expect(names(weeks, '2026-12-08')).toEqual(['a', 'c*'])
    expect(names(weeks, '2026-12-11')).toEqual(['-', 'c'])
    // c runs into January; the days of January show nothing.
    expect(names(weeks, '2026-12-28')).toEqual(['c*'])
    expect(names(weeks, '2026-12-31')).toEqual(['c'])
    expect(names(weeks, '2027-01-01')).toEqual([])
    expect(day(weeks, '2026-12-01').lanes[0]).toMatchObject({ starts: true, ends: false })
    expect(day(weeks, '2026-12-10').lanes[0]).toMatchObject({ starts: false, ends: true })
    expect(day(weeks, '2026-12-31').lanes[0]).toMatchObject({ starts: false, ends: false })
  })

  it('leaves out a day the promotion ends at the start of', () => {
    const midnight = promotion({ name: 'm', start: at(2026, 12, 2), end: at(2026, 12, 4) })
    const weeks = monthCalendar(dec, [midnight])
    expect(names(weeks, '2026-12-03')).toEqual(['m'])
    expect(day(weeks, '2026-12-03').lanes[0]?.ends).toBe(true)
    expect(names(weeks, '2026-12-04')).toEqual(['-'])
  })

  it('counts what does not fit in the lanes shown', () => {
    const weeks = monthCalendar(dec, [a, b], 1)
    expect(names(weeks, '2026-12-05')).toEqual(['a'])
    expect(day(weeks, '2026-12-05').hidden.map((p) => p.name)).toEqual(['b'])
    expect(day(weeks, '2026-12-04').hidden).toEqual([])
  })
})
