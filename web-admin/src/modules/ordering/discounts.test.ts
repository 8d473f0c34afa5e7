// Every discount kind of ordering's contract has a name of the board's own in both languages; a
// kind this build does not know reads as the server labelled it.
import { afterEach, describe, expect, it } from 'vitest'
import { create } from '@bufbuild/protobuf'
import { DiscountSchema } from '@/gen/minimodules/ordering/v1/discounts_pb'
import { i18n } from '@/locales'
import { discountKindKey, discountView } from './discounts'

const say = (k: string) => i18n.global.t(k)
const zh = (z: string, e: string) => z || e
const en = (z: string, e: string) => e || z
const line = (kind: string, labelZh = '', labelEn = '') =>
  create(DiscountSchema, { source: 'tenants/t/x/1', kind, labelZh, labelEn, amountFen: 500n })

afterEach(() => {
  i18n.global.locale.value = 'zh-CN'
})

describe('discountKindKey', () => {
  it("knows every kind of ordering's discount contract, and nothing else", () => {
    expect(['PROMOTION', 'MEMBER_LEVEL', 'COUPON', 'POINTS', 'GIFT_CARD', '', 'toString'].map(discountKindKey)).toEqual(
      ['promotion', 'memberLevel', 'coupon', 'points', undefined, undefined, undefined],
    )
  })
})

describe('discountView', () => {
  const KINDS = ['PROMOTION', 'MEMBER_LEVEL', 'COUPON', 'POINTS']

  it('names each kind in Chinese, with the server label beside it', () => {
    expect(KINDS.map((k) => discountView(line(k, '满100减20'), say, zh).kind)).toEqual([
      '促销',
      '会员折扣',
      '优惠券',
      '积分抵扣',
    ])
    expect(discountView(line('COUPON', '满100减20', '¥20 off ¥100'), say, zh)).toEqual({
      kind: '优惠券',
      detail: '满100减20',
    })
    expect(discountView(line('POINTS', '积分抵扣（500 积分）', '500 points'), say, zh)).toEqual({
      kind: '积分抵扣',
      detail: '积分抵扣（500 积分）',
    })
  })

  it('names each kind in English', () => {
    i18n.global.locale.value = 'en-US'
    expect(KINDS.map((k) => discountView(line(k), say, en).kind)).toEqual([
      'Promotion',
      'Member discount',
      'Coupon',
      'Points',
    ])
    expect(discountView(line('MEMBER_LEVEL', '金卡优惠 5%', 'Gold 5% off'), say, en).detail).toBe('Gold 5% off')
  })

  it('says a label once when it is the kind, and falls back to the server for a kind it does not know', () => {
    expect(discountView(line('POINTS', '积分抵扣'), say, zh)).toEqual({ kind: '积分抵扣', detail: '' })
    expect(discountView(line('GIFT_CARD', '礼品卡', 'Gift card'), say, zh)).toEqual({ kind: '礼品卡', detail: '' })
    i18n.global.locale.value = 'en-US'
    expect(discountView(line('GIFT_CARD', '礼品卡', 'Gift card'), say, en)).toEqual({ kind: 'Gift card', detail: '' })
    expect(discountView(line('GIFT_CARD'), say, en)).toEqual({ kind: 'GIFT_CARD', detail: '' })
  })
})
