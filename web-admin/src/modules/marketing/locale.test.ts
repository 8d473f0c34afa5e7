// Every refusal marketing's server can answer reads as a sentence in both languages, filled from
// its facts, never the server's English.
import { afterEach, describe, expect, it } from 'vitest'
import { Code, ConnectError } from '@connectrpc/connect'
import { ErrorInfoSchema } from '@/gen/google/rpc/error_details_pb'
import { i18n, type LocaleName } from '@/locales'
import { reasonMessage } from '@/lib/reasons'

// crates/modules/marketing/src/error.rs, MarketingError::reason.
const REASONS = [
  'COUPON_TEMPLATE_NOT_FOUND',
  'COUPON_TEMPLATE_STOPPED',
  'COUPON_NOT_CLAIMABLE',
  'COUPON_TEMPLATE_EXPIRED',
  'COUPONS_SOLD_OUT',
  'COUPON_LIMIT_REACHED',
  'COUPON_UNAVAILABLE',
  'COUPON_NOT_APPLICABLE',
  'MODULE_DISABLED',
  'POINTS_INSUFFICIENT',
  'PROMOTION_NOT_FOUND',
]

const refusal = (reason: string, metadata: Record<string, string> = {}) =>
  new ConnectError('english', Code.FailedPrecondition, undefined, [
    { desc: ErrorInfoSchema, value: { reason, domain: 'marketing.minimodules', metadata } },
  ])

function inLocale(locale: LocaleName, err: unknown) {
  i18n.global.locale.value = locale
  return reasonMessage(err, i18n.global)
}

afterEach(() => {
  i18n.global.locale.value = 'zh-CN'
})

describe("marketing's refusals", () => {
  it('are worded in both languages', () => {
    for (const locale of ['zh-CN', 'en-US'] as const) {
      for (const reason of REASONS) {
        const said = inLocale(locale, refusal(reason, { limit: '2', template: 'tenants/t/couponTemplates/x' }))
        expect(said, `${locale} ${reason}`).toBeTypeOf('string')
        expect(said, `${locale} ${reason}`).not.toMatch(/english|[A-Z]{2,}_[A-Z]/)
      }
    }
  })

  it('fill in their facts', () => {
    expect(inLocale('zh-CN', refusal('COUPON_LIMIT_REACHED', { limit: '2' }))).toBe('每位顾客最多领取 2 张')
    expect(inLocale('zh-CN', refusal('COUPONS_SOLD_OUT'))).toBe('这张优惠券已全部发完，可先增加发放总量')
    expect(inLocale('zh-CN', refusal('POINTS_INSUFFICIENT'))).toBe('可用积分不足，扣减后积分不能为负数')
    expect(inLocale('zh-CN', refusal('PROMOTION_NOT_FOUND'))).toBe('这个促销活动不存在，请刷新后重试')
    expect(inLocale('en-US', refusal('MODULE_DISABLED'))).toBe(
      'Marketing is switched off; switch it on under Modules first',
    )
  })
})
