// The orders board's rules, kept out of the view so they are tested without a browser: which
// column an order sits in, which lifecycle actions a user may take on it (the server checks
// again), and how a live event changes the list.
import {
  OrderEventKind,
  OrderStatus,
  PaymentMethod,
  type Order,
  type OrderEvent,
} from '@/gen/minimodules/ordering/v1/order_pb'

export type ColumnId = 'unpaid' | 'new' | 'kitchen' | 'ready' | 'done'

export const COLUMNS: { id: ColumnId; statuses: OrderStatus[] }[] = [
  { id: 'unpaid', statuses: [OrderStatus.PENDING_PAYMENT] },
  { id: 'new', statuses: [OrderStatus.PAID] },
  { id: 'kitchen', statuses: [OrderStatus.ACCEPTED, OrderStatus.PREPARING] },
  { id: 'ready', statuses: [OrderStatus.READY] },
  { id: 'done', statuses: [OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.REFUNDING, OrderStatus.REFUNDED] },
]

export const ACTIVE = COLUMNS.filter((c) => c.id !== 'done').flatMap((c) => c.statuses)
export const FINISHED = COLUMNS.find((c) => c.id === 'done')?.statuses ?? []

export function columnOf(status: OrderStatus): ColumnId {
  return COLUMNS.find((c) => c.statuses.includes(status))?.id ?? 'done'
}

export type ActionId = 'confirmPayment' | 'accept' | 'startPreparing' | 'markReady' | 'complete' | 'cancel' | 'refund'

export interface Action {
  id: ActionId
  /** Asks for confirmation first. */
  destructive: boolean
  primary: boolean
}

/**
 * What the user may do with an order now. `manage` is the ordering.orders.manage permission;
 * refunds are for admins and operators only, as the contract declares.
 */
export function actionsFor(order: Order, manage: boolean, mayRefund: boolean): Action[] {
  const out: Action[] = []
  const act = (id: ActionId, primary = false, destructive = false) => out.push({ id, primary, destructive })
  if (manage) {
    switch (order.status) {
      case OrderStatus.PENDING_PAYMENT:
        if (order.paymentMethod === PaymentMethod.COUNTER) act('confirmPayment', true)
        act('cancel', false, true)
        break
      case OrderStatus.PAID:
        act('accept', true)
        act('cancel', false, true)
        break
      case OrderStatus.ACCEPTED:
        act('startPreparing', true)
        break
      case OrderStatus.PREPARING:
        act('markReady', true)
        break
      case OrderStatus.READY:
        act('complete', true)
        break
      default:
        break
    }
  }
  const paid = [OrderStatus.PAID, OrderStatus.ACCEPTED, OrderStatus.PREPARING, OrderStatus.READY, OrderStatus.COMPLETED]
  if (mayRefund && paid.includes(order.status)) act('refund', false, true)
  return out
}

/** The list after an event: new orders first, a changed order replaced in place. */
export function applyEvent(orders: Order[], event: OrderEvent): { orders: Order[]; resync: boolean } {
  if (event.kind === OrderEventKind.RESYNC) return { orders, resync: true }
  const o = event.order
  if (!o) return { orders, resync: false }
  const i = orders.findIndex((x) => x.name === o.name)
  if (i >= 0) {
    const next = orders.slice()
    next[i] = o
    return { orders: next, resync: false }
  }
  return { orders: [o, ...orders], resync: false }
}
