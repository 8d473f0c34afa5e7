import { describe, expect, it } from 'vitest'
import { Code, ConnectError } from '@connectrpc/connect'
import { BadRequestSchema, ErrorInfoSchema } from '@/gen/google/rpc/error_details_pb'
import { errorFacts, errorReason, fieldErrors, normaliseField } from './errors'

function invalid(fields: [string, string][]) {
  return new ConnectError('invalid', Code.InvalidArgument, undefined, [
    { desc: ErrorInfoSchema, value: { reason: 'INVALID_ARGUMENT', domain: 'tenant.minimodules' } },
    {
      desc: BadRequestSchema,
      value: { fieldViolations: fields.map(([field, description]) => ({ field, description })) },
    },
  ])
}

describe('fieldErrors', () => {
  it('keys violations by path below the prefix', () => {
    const err = invalid([
      ['config.min_order_fen', 'too big'],
      ['config.opening_hours.0.start', 'bad time'],
      ['config', 'unknown key'],
    ])
    expect(fieldErrors(err, 'config')).toEqual({
      min_order_fen: 'too big',
      'opening_hours.0.start': 'bad time',
      '': 'unknown key',
    })
  })

  it('turns index brackets into path segments and joins repeated fields', () => {
    const err = invalid([
      ['product.skus[1].price_fen', 'negative'],
      ['product.skus[1].price_fen', 'odd'],
    ])
    expect(fieldErrors(err, 'product')).toEqual({ 'skus.1.price_fen': 'negative; odd' })
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
