// A template's field violations as the server sends them (BadRequest, params in the ErrorInfo
// metadata) land on the form items they name, worded for the shop: by the field when the server
// says no more than INVALID, by the shared wording when its reason says enough. An adjustment's
// land on the amount and the reason, and a balance too low to take from on the amount.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ElMessage } from 'element-plus'
import { Code, ConnectError } from '@connectrpc/connect'
import { BadRequestSchema, ErrorInfoSchema } from '@/gen/google/rpc/error_details_pb'
import { i18n } from '@/locales'
import { adjustFormErrors, templateErrors, validityError } from './violations'

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
