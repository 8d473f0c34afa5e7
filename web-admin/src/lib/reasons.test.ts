// Server refusals in the user's language, with the real locale files: the reason picks the message,
// the metadata fills it, a module's own wording wins over the common one, and an unknown reason
// keeps the server's English message.
import { afterEach, describe, expect, it } from 'vitest'
import { Code, ConnectError } from '@connectrpc/connect'
import { ErrorInfoSchema } from '@/gen/google/rpc/error_details_pb'
import { i18n, type LocaleName } from '@/locales'
import { camel, reasonMessage } from './reasons'
import { messageOf } from './ui'

/** A refusal as the server's `to_status` builds it. */
function refusal(module: string, reason: string, metadata: Record<string, string> = {}, message = 'english') {
  return new ConnectError(message, Code.FailedPrecondition, undefined, [
    { desc: ErrorInfoSchema, value: { reason, domain: `${module}.minimodules`, metadata } },
  ])
}

const tr = i18n.global
function inLocale(locale: LocaleName, err: unknown) {
  tr.locale.value = locale
  return reasonMessage(err, tr)
}

afterEach(() => {
  tr.locale.value = 'zh-CN'
})

describe('reasonMessage', () => {
  it('words booking refusals in Chinese and English', () => {
    expect(inLocale('zh-CN', refusal('booking', 'SLOT_FULL'))).toBe('该时段已约满，请选择其他时段')
    expect(inLocale('en-US', refusal('booking', 'SLOT_FULL'))).toBe('That time is fully booked; pick another')
    expect(inLocale('zh-CN', refusal('booking', 'SLOT_UNAVAILABLE'))).toMatch(/^该时段不可预约：/)
  })

  it('says which cause made a time unbookable when the server names it', () => {
    const closed = refusal('booking', 'SLOT_UNAVAILABLE', { cause: 'closed' })
    expect(inLocale('zh-CN', closed)).toBe('该时段不可预约：不在营业时间内，或正逢休息、假期')
    const range = refusal('booking', 'SLOT_UNAVAILABLE', { cause: 'outside_booking_range' })
    expect(inLocale('en-US', range)).toBe(
      'That time cannot be booked: inside the lead time or beyond the booking horizon',
    )
    // A cause this dashboard does not know yet falls back to the reason's general wording.
    const later = refusal('booking', 'SLOT_UNAVAILABLE', { cause: 'added_later' })
    expect(inLocale('zh-CN', later)).toBe('该时段不可预约：不在营业时间内、正逢休息或假期，或超出可预约范围')
  })

  it('fills the message from the metadata', () => {
    const late = refusal('booking', 'RESCHEDULE_WINDOW_PASSED', { hours: '24' })
    expect(inLocale('zh-CN', late)).toBe('预约开始前 24 小时内不能改约')
    expect(inLocale('en-US', late)).toBe('Bookings cannot be moved less than 24 hours before they start')
    expect(inLocale('zh-CN', refusal('booking', 'CANCEL_WINDOW_PASSED', { hours: '2' }))).toBe(
      '预约开始前 2 小时内不能取消',
    )
    expect(inLocale('zh-CN', refusal('booking', 'WECHAT_PAY_ERROR', { wechat_code: 'PARAM_ERROR' }))).toBe(
      '微信支付拒绝了请求（PARAM_ERROR）',
    )
    expect(inLocale('zh-CN', refusal('identity', 'ACCOUNT_LOCKED', { retry_after_secs: '300' }))).toBe(
      '登录失败次数过多，请 300 秒后再试',
    )
  })

  it('shows fen amounts in yuan', () => {
    expect(inLocale('zh-CN', refusal('booking', 'DEPOSIT_REQUIRED', { deposit_fen: '5000' }))).toBe(
      '该服务需付定金 ¥50.00，付款后预约才会确认',
    )
    expect(inLocale('en-US', refusal('ordering', 'PRICE_CHANGED', { expected_fen: '1800', actual_fen: '2050' }))).toBe(
      'Prices changed: the total is now ¥20.50, not ¥18.00',
    )
  })

  it("words a transition's status and step with the module's own status names", () => {
    const done = refusal('booking', 'INVALID_TRANSITION', { status: 'completed', action: 'rescheduled' })
    expect(inLocale('zh-CN', done)).toBe('该预约已完成，不能改约')
    expect(inLocale('en-US', done)).toBe('The booking is “Completed”: it cannot be rescheduled')
    const noShow = refusal('booking', 'INVALID_TRANSITION', { status: 'no_show', action: 'marked a no-show' })
    expect(inLocale('zh-CN', noShow)).toBe('该预约未到店，不能标记为未到店')
    const order = refusal('ordering', 'INVALID_TRANSITION', { status: 'pending_payment', action: 'accepted' })
    expect(inLocale('zh-CN', order)).toBe('该订单待支付，不能接单')
  })

  it('keeps a status or step it has no word for as the server sent it', () => {
    const err = refusal('ordering', 'INVALID_TRANSITION', { status: 'creating', action: 'teleported' })
    expect(inLocale('zh-CN', err)).toBe('该订单creating，不能teleported')
  })

  it('names what was not found', () => {
    expect(inLocale('zh-CN', refusal('booking', 'NOT_FOUND', { kind: 'time off', id: 'x' }))).toBe(
      '休息记录不存在或已被删除',
    )
    expect(inLocale('en-US', refusal('booking', 'NOT_FOUND', { kind: 'reservation', id: 'x' }))).toBe(
      'This booking does not exist or was deleted',
    )
  })

  it("prefers the module's own wording, else the common one", () => {
    // Booking's cancel window comes in hours; ordering's carries no metadata.
    expect(inLocale('zh-CN', refusal('ordering', 'CANCEL_WINDOW_PASSED'))).toBe('已过可取消的时间，请联系店铺')
    expect(inLocale('zh-CN', refusal('booking', 'MODULE_DISABLED'))).toBe('该模块未启用')
    expect(inLocale('zh-CN', refusal('tenant', 'MODULE_DISABLED', { module: 'booking' }))).toBe('模块 booking 未启用')
    expect(inLocale('zh-CN', refusal('tenant', 'HAS_DEPENDENTS', { module: 'catalog', dependents: 'a,b' }))).toBe(
      '模块 catalog 仍被以下已启用模块依赖：a, b',
    )
  })

  it('leaves unknown reasons, and errors without a reason, to the caller', () => {
    expect(inLocale('zh-CN', refusal('booking', 'SOMETHING_NEW'))).toBeUndefined()
    expect(inLocale('zh-CN', refusal('booking', 'NOTIFICATION_REJECTED'))).toBeUndefined()
    expect(inLocale('zh-CN', new ConnectError('x', Code.FailedPrecondition))).toBeUndefined()
    expect(inLocale('zh-CN', new Error('x'))).toBeUndefined()
  })

  it("words every reason booking's dashboard pages meet, in both languages", () => {
    const booking = [
      'SLOT_UNAVAILABLE',
      'SLOT_FULL',
      'INVALID_TRANSITION',
      'CANCEL_WINDOW_PASSED',
      'RESCHEDULE_WINDOW_PASSED',
      'NOT_STARTED_YET',
      'DEPOSIT_REQUIRED',
      'PAYMENT_UNAVAILABLE',
      'WECHAT_PAY_ERROR',
      'MODULE_DISABLED',
      'NOT_FOUND',
    ]
    const metadata = { hours: '3', deposit_fen: '100', status: 'held', action: 'completed', kind: 'service' }
    for (const locale of ['zh-CN', 'en-US'] as const) {
      for (const reason of booking) {
        const text = inLocale(locale, refusal('booking', reason, metadata, 'english'))
        expect(text, `${locale} ${reason}`).toBeTruthy()
        expect(text, `${locale} ${reason}`).not.toMatch(/[{}]|english/)
      }
    }
  })
})

describe('messageOf', () => {
  it('words a known reason, else the code, else shows the server message', () => {
    expect(messageOf(refusal('booking', 'SLOT_FULL', {}, 'that time is fully booked'))).toBe(
      '该时段已约满，请选择其他时段',
    )
    expect(messageOf(refusal('booking', 'SOMETHING_NEW', {}, 'a new refusal'))).toBe('a new refusal')
    expect(messageOf(new ConnectError('down', Code.Unavailable))).toBe('服务暂不可用，请稍后再试')
    expect(messageOf(new TypeError('fetch failed'))).toBe('无法连接服务器')
  })
})

describe('camel', () => {
  it('spells server words as locale keys', () => {
    expect(camel('no_show')).toBe('noShow')
    expect(camel('marked a no-show')).toBe('markedANoShow')
    expect(camel('time off')).toBe('timeOff')
    expect(camel('held')).toBe('held')
  })
})
