import { describe, expect, it } from 'vitest'
import { Code, ConnectError } from '@connectrpc/connect'
import { BadRequestSchema, ErrorInfoSchema } from '@/gen/google/rpc/error_details_pb'
import { errorFacts, errorKey, errorReason, fieldErrors, normaliseField } from './errors'

function invalid(fields: [string, string][], metadata: Record<string, string> = {}) {
  return new ConnectError('invalid', Code.InvalidArgument, undefined, [
    { desc: ErrorInfoSchema, value: { reason: 'INVALID_ARGUMENT', domain: 'tenant.minimodules', metadata } },
    {
      desc: BadRequestSchema,
      value: {
        fieldViolations: fields.map(([field, reason]) => ({ field, reason, description: 'English for developers' })),
      },
    },
  ])
}

describe('fieldErrors', () => {
  it('keys violations by path below the prefix, worded from reason and params, never the server English', () => {
    const err = invalid(
      [
        ['config.min_order_fen', 'ABOVE_MAXIMUM'],
        ['config.horizon_days', 'BELOW_MINIMUM'],
        ['config.opening_hours.0.start', 'INVALID_FORMAT'],
        ['config', 'UNKNOWN_FIELD'],
      ],
      {
        'config.min_order_fen#max': '10000000',
        'config.horizon_days#min': '1',
        'config.horizon_days#max': '180',
        'config.opening_hours.0.start#format': 'time',
      },
    )
    expect(fieldErrors(err, 'config')).toEqual({
      min_order_fen: '不能大于 10000000',
      horizon_days: '须在 1 到 180 之间',
      'opening_hours.0.start': '请按 24 小时制填写，如 09:00',
      '': '包含未知的设置项',
    })
  })

  it('turns index brackets into path segments and joins different messages of one field', () => {
    const err = invalid(
      [
        ['product.skus[1].price_fen', 'BELOW_MINIMUM'],
        ['product.skus[1].price_fen', 'WRONG_TYPE'],
      ],
      { 'product.skus[1].price_fen#min': '0' },
    )
    expect(fieldErrors(err, 'product')).toEqual({ 'skus.1.price_fen': '不能小于 0; 类型不正确' })
  })

  it('words a reason this build does not know generically, and a violation without one too', () => {
    expect(fieldErrors(invalid([['slug', 'SOMETHING_NEW']]))).toEqual({ slug: '填写有误' })
    expect(fieldErrors(invalid([['slug', '']]))).toEqual({ slug: '填写有误' })
  })

  it('is empty for errors without details and for non-connect errors', () => {
    expect(fieldErrors(new ConnectError('x', Code.Internal))).toEqual({})
    expect(fieldErrors(new Error('x'))).toEqual({})
  })

  it('reads the reason', () => {
    expect(errorReason(invalid([]))).toBe('INVALID_ARGUMENT')
  })
})

describe('errorFacts', () => {
  it('names the module the domain names, with the metadata', () => {
    const err = new ConnectError('late', Code.FailedPrecondition, undefined, [
      {
        desc: ErrorInfoSchema,
        value: { reason: 'CANCEL_WINDOW_PASSED', domain: 'booking.minimodules', metadata: { hours: '24' } },
      },
    ])
    expect(errorFacts(err)).toEqual({ reason: 'CANCEL_WINDOW_PASSED', module: 'booking', metadata: { hours: '24' } })
  })

  it('is undefined without an ErrorInfo', () => {
    expect(errorFacts(new ConnectError('x', Code.Internal))).toBeUndefined()
    expect(errorFacts(new Error('x'))).toBeUndefined()
  })
})

describe('normaliseField', () => {
  it('leaves other prefixes alone', () => {
    expect(normaliseField('tenant.slug', 'product')).toBe('tenant.slug')
  })
})

describe('errorKey', () => {
  it("words the browser's network failures, never shows them raw", () => {
    expect(errorKey(new ConnectError('Failed to fetch', Code.Unknown))).toBe('errors.network')
    expect(errorKey(new ConnectError('NetworkError when attempting to fetch resource.', Code.Unknown))).toBe(
      'errors.network',
    )
    expect(errorKey(new TypeError('Failed to fetch'))).toBe('errors.network')
    expect(errorKey(new ConnectError('slot taken', Code.FailedPrecondition))).toBeUndefined()
  })
})
