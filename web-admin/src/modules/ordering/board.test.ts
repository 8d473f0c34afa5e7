import { describe, expect, it } from 'vitest'
import { create } from '@bufbuild/protobuf'
import {
  OrderEventKind,
  OrderEventSchema,
  OrderSchema,
  OrderStatus,
  PaymentMethod,
} from '@/gen/minimodules/ordering/v1/order_pb'
import { actionsFor, applyEvent, columnOf } from './board'

const order = (name: string, status: OrderStatus, paymentMethod = PaymentMethod.WECHAT_PAY) =>
  create(OrderSchema, { name, status, paymentMethod })
const ids = (o: ReturnType<typeof order>, manage = true, refund = false) =>
  actionsFor(o, manage, refund).map((a) => a.id)

describe('columnOf', () => {
  it('puts accepted and preparing orders in the kitchen, final ones in done', () => {
    expect(columnOf(OrderStatus.ACCEPTED)).toBe('kitchen')
    expect(columnOf(OrderStatus.PREPARING)).toBe('kitchen')
    expect(columnOf(OrderStatus.REFUNDED)).toBe('done')
  })
})

describe('actionsFor', () => {
  it('offers the next lifecycle step for each status', () => {
    expect(ids(order('a', OrderStatus.PAID))).toEqual(['accept', 'cancel'])
    expect(ids(order('a', OrderStatus.ACCEPTED))).toEqual(['startPreparing'])
    expect(ids(order('a', OrderStatus.PREPARING))).toEqual(['markReady'])
    expect(ids(order('a', OrderStatus.READY))).toEqual(['complete'])
    expect(ids(order('a', OrderStatus.COMPLETED))).toEqual([])
  })

  it('lets staff confirm a counter payment, not a WeChat Pay one', () => {
    expect(ids(order('a', OrderStatus.PENDING_PAYMENT, PaymentMethod.COUNTER))).toEqual(['confirmPayment', 'cancel'])
    expect(ids(order('a', OrderStatus.PENDING_PAYMENT, PaymentMethod.WECHAT_PAY))).toEqual(['cancel'])
  })

  it('offers nothing to staff without the manage permission', () => {
    expect(ids(order('a', OrderStatus.PAID), false)).toEqual([])
  })

  it('offers refunds of paid orders only to those who may refund, with confirmation', () => {
    expect(ids(order('a', OrderStatus.COMPLETED), true, true)).toEqual(['refund'])
    expect(ids(order('a', OrderStatus.PENDING_PAYMENT), true, true)).toEqual(['cancel'])
    expect(actionsFor(order('a', OrderStatus.READY), true, true).find((a) => a.id === 'refund')?.destructive).toBe(true)
  })
})

describe('applyEvent', () => {
  const list = [order('o1', OrderStatus.PAID), order('o2', OrderStatus.READY)]

  it('puts a new order first', () => {
    const ev = create(OrderEventSchema, {
      kind: OrderEventKind.CREATED,
      order: order('o3', OrderStatus.PENDING_PAYMENT),
    })
    expect(applyEvent(list, ev).orders.map((o) => o.name)).toEqual(['o3', 'o1', 'o2'])
  })

  it('replaces a changed order in place', () => {
    const ev = create(OrderEventSchema, { kind: OrderEventKind.UPDATED, order: order('o2', OrderStatus.COMPLETED) })
    const next = applyEvent(list, ev).orders
    expect(next.map((o) => [o.name, o.status])).toEqual([
      ['o1', OrderStatus.PAID],
      ['o2', OrderStatus.COMPLETED],
    ])
    expect(list[1]?.status).toBe(OrderStatus.READY)
  })

  it('asks for a reload when events were missed', () => {
    expect(applyEvent(list, create(OrderEventSchema, { kind: OrderEventKind.RESYNC })).resync).toBe(true)
  })
})
