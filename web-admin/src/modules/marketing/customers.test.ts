// How the issue dialog names and addresses a customer.
import { describe, expect, it } from 'vitest'
import { customerLabel, customerName } from './customers'

describe('customerLabel', () => {
  it('prefers the nickname, shows the phone beside it, and falls back to the id', () => {
    const name = 'tenants/t/users/u1'
    expect(customerLabel({ name, nickname: '小林', displayName: '林', phone: '13800138000' })).toBe(
      '小林 · 13800138000',
    )
    expect(customerLabel({ name, nickname: '', displayName: '林先生', phone: '' })).toBe('林先生')
    expect(customerLabel({ name, nickname: '', displayName: '', phone: '13800138000' })).toBe('13800138000')
    expect(customerLabel({ name, nickname: '', displayName: '', phone: '' })).toBe('u1')
  })
})

describe('customerName', () => {
  it('takes a full user name as it is and puts a bare id under the shop', () => {
    expect(customerName(' tenants/t/users/u1 ', 'tenants/t')).toBe('tenants/t/users/u1')
    expect(customerName('u1', 'tenants/t')).toBe('tenants/t/users/u1')
    expect(customerName('users/u1', 'tenants/t')).toBe('tenants/t/users/u1')
    expect(customerName('  ', 'tenants/t')).toBe('')
  })
})
