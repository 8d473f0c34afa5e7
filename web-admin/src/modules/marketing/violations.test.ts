// A template's field violations as the server sends them (BadRequest, params in the ErrorInfo
// metadata) land on the form items they name, worded for the shop: by the field when the server
// says no more than INVALID, by the shared wording when its reason says enough. An adjustment's
// land on the amount and the reason, and a balance too low to take from on the amount.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ElMessage } from 'element-plus'
import { Code, ConnectError } from '@connectrpc/connect'
import { BadRequestSchema, ErrorInfoSchema } from '@/gen/google/rpc/error_details_pb'
import { i18n } from '@/locales'
import { adjustFormErrors, promotionErrors, promotionFormErrors, templateErrors, validityError } from './violations'

function refused(violations: { field: string; reason: string }[], metadata: Record<string, string> = {}) {
  return new ConnectError('invalid', Code.InvalidArgument, undefined, [
    { desc: ErrorInfoSchema, value: { reason: 'INVALID_ARGUMENT', domain: 'marketing.minimodules', metadata } },
    {
      desc: BadRequestSchema,
      value: { fieldViolations: violations.map((v) => ({ ...v, description: 'english for developers' })) },
    },
  ])
}

afterEach(() => {
  i18n.global.locale.value = 'zh-CN'
})

describe('templateErrors', () => {
  it('words a bare INVALID by the rule its field stands for', () => {
    const err = refused([
      { field: 'template.threshold_fen', reason: 'INVALID' },
      { field: 'template.valid_days', reason: 'INVALID' },
      { field: 'template.per_customer_limit', reason: 'INVALID' },
    ])
    expect(templateErrors(err)).toEqual({
      threshold_fen: '使用门槛须高于减免金额，且不超过 100 万元',
      valid_days: '请选择固定日期，或填写领取后 1 到 365 天有效',
      per_customer_limit: '每人限领须在 1 到 100 张之间',
    })
    i18n.global.locale.value = 'en-US'
    expect(templateErrors(err).threshold_fen).toBe(
      'The minimum spend must be above the amount off and at most ¥1,000,000',
    )
  })

  it('keeps the shared wording of a precise reason, with its parameters', () => {
    const err = refused(
      [
        { field: 'template.title_zh', reason: 'REQUIRED' },
        { field: 'template.title_en', reason: 'TOO_LONG' },
      ],
      { 'template.title_en#max': '80' },
    )
    expect(templateErrors(err)).toEqual({ title_zh: '必填', title_en: '最多 80 个字符' })
  })

  it('words the total below what was handed out with the number handed out', () => {
    const err = refused([{ field: 'template.total_quantity', reason: 'BELOW_MINIMUM' }], {
      'template.total_quantity#min': '12',
    })
    expect(templateErrors(err)).toEqual({ total_quantity: '已发出 12 张，总量不能少于 12 张' })
  })

  it('joins two different complaints about one field once each', () => {
    const err = refused(
      [
        { field: 'template.products', reason: 'INVALID' },
        { field: 'template.products', reason: 'INVALID' },
        { field: 'template.products', reason: 'TOO_MANY' },
      ],
      { 'template.products#max': '100' },
    )
    expect(templateErrors(err).products).toBe('有商品不属于本店，请重新选择; 最多 100 项')
  })

  it('leaves a field it has no wording for to the generic one, and other errors to the caller', () => {
    expect(templateErrors(refused([{ field: 'template.stackable', reason: 'INVALID' }]))).toEqual({
      stackable: '填写有误',
    })
    expect(templateErrors(new ConnectError('down', Code.Unavailable))).toEqual({})
    expect(templateErrors(new Error('x'))).toEqual({})
  })
})

describe('validityError', () => {
  it('shows what was said about the days or the dates on the one validity item', () => {
    expect(validityError({ valid_until: 'u' })).toBe('u')
    expect(validityError({ valid_days: 'd', valid_until: 'u' })).toBe('d')
    expect(validityError({ total_quantity: 'x' })).toBeUndefined()
  })
})

describe('adjustFormErrors', () => {
  it('puts a balance too low beside the amount, in the shop’s words', () => {
    const toast = vi.spyOn(ElMessage, 'error').mockImplementation((() => undefined) as never)
    const err = new ConnectError('the member does not have that many points', Code.FailedPrecondition, undefined, [
      { desc: ErrorInfoSchema, value: { reason: 'POINTS_INSUFFICIENT', domain: 'marketing.minimodules' } },
    ])
    expect(adjustFormErrors(err)).toEqual({ delta: '可用积分不足，扣减后积分不能为负数' })
    expect(toast).not.toHaveBeenCalled()
    toast.mockRestore()
  })

  it('words the amount and the reason the server refused beside them', () => {
    const toast = vi.spyOn(ElMessage, 'error').mockImplementation((() => undefined) as never)
    const err = refused(
      [
        { field: 'delta', reason: 'ABOVE_MAXIMUM' },
        { field: 'reason', reason: 'TOO_LONG' },
      ],
      { 'delta#max': '1000000', 'reason#max': '200' },
    )
    expect(adjustFormErrors(err)).toEqual({ delta: '每次可调整 1 到 1000000 积分', reason: '最多 200 个字符' })
    expect(toast).toHaveBeenCalledWith('请修正标红的字段')
    toast.mockRestore()
  })
})

describe('promotionErrors', () => {
  it('puts each tier’s complaint beside its row, in the form’s own words', () => {
    const err = refused([
      { field: 'promotion.tiers[0]', reason: 'INVALID' },
      { field: 'promotion.tiers[2]', reason: 'NOT_RISING' },
      { field: 'promotion.percent_off', reason: 'INVALID' },
    ])
    expect(promotionErrors(err)).toEqual({
      'tiers.0': '门槛须在 0.01 到 100 万元之间，减免金额须大于 0 且低于门槛',
      'tiers.2': '门槛和减免金额都须高于上一档',
      percent_off: '折扣须在 1 折到 9.9 折之间',
    })
    i18n.global.locale.value = 'en-US'
    expect(promotionErrors(err)['tiers.2']).toBe('Spend and save must both be more than the tier before')
  })

  it('words the window’s reasons and the titles’', () => {
    const err = refused(
      [
        { field: 'promotion.title_zh', reason: 'TOO_LONG' },
        { field: 'promotion.start_time', reason: 'REQUIRED' },
        { field: 'promotion.end_time', reason: 'IN_THE_PAST' },
        { field: 'promotion.tiers', reason: 'OUT_OF_RANGE' },
      ],
      { 'promotion.title_zh#max': '40' },
    )
    expect(promotionErrors(err)).toEqual({
      title_zh: '活动名称最多 40 个字',
      start_time: '请选择开始时间',
      end_time: '结束时间已过，请选择以后的时间',
      tiers: '请设置 1 到 5 档满减',
    })
    const window = (reason: string) => promotionErrors(refused([{ field: 'promotion.end_time', reason }])).end_time
    expect([window('BEFORE_START'), window('ABOVE_MAXIMUM')]).toEqual(['结束时间须晚于开始时间', '活动最长 366 天'])
  })

  it('keeps products of another shop on the scope, and leaves a coupon’s wording alone', () => {
    expect(promotionErrors(refused([{ field: 'promotion.products', reason: 'INVALID' }]))).toEqual({
      products: '有商品不属于本店，请重新选择',
    })
    // A coupon's percent_off is 0.1 to 9.9 折; a promotion's 1 to 9.9.
    expect(templateErrors(refused([{ field: 'template.percent_off', reason: 'INVALID' }])).percent_off).toBe(
      '折扣须在 0.1 折到 9.9 折之间',
    )
  })
})

describe('promotionFormErrors', () => {
  it('marks the fields the form has, with one toast', () => {
    const toast = vi.spyOn(ElMessage, 'error').mockImplementation((() => undefined) as never)
    const err = refused([{ field: 'promotion.end_time', reason: 'IN_THE_PAST' }])
    expect(promotionFormErrors(err, (k) => k === 'end_time')).toEqual({ end_time: '结束时间已过，请选择以后的时间' })
    expect(toast).toHaveBeenCalledWith('请修正标红的字段')
    toast.mockRestore()
  })

  it('says why a stopped promotion cannot change in a toast, as the form has no state', () => {
    const toast = vi.spyOn(ElMessage, 'error').mockImplementation((() => undefined) as never)
    const err = refused([{ field: 'promotion.state', reason: 'STOPPED' }])
    expect(promotionFormErrors(err, (k) => k === 'title_zh')).toEqual({})
    expect(toast).toHaveBeenCalledWith(expect.objectContaining({ message: '活动已停止，不能再修改' }))
    toast.mockRestore()
  })
})
