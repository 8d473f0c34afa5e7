// The ordering module's words in English; the type makes it carry exactly zh-CN's keys.
import type { Shape } from '@/locales/shape'
import type zh from './locale.zh-CN'

const en: Shape<typeof zh> = {
  ordering: {
    board: 'Order board',
    live: 'Live',
    connecting: 'Connecting',
    retrying: 'Reconnecting',
    stopped: 'Disconnected',
    columns: { unpaid: 'Awaiting payment', new: 'New', kitchen: 'In the kitchen', ready: 'Ready', done: 'Finished' },
    status: {
      pendingPayment: 'Awaiting payment',
      paid: 'Paid',
      accepted: 'Accepted',
      preparing: 'Preparing',
      ready: 'Ready',
      completed: 'Completed',
      cancelled: 'Cancelled',
      refunding: 'Refunding',
      refunded: 'Refunded',
    },
    actions: {
      confirmPayment: 'Confirm payment',
      accept: 'Accept',
      startPreparing: 'Start preparing',
      markReady: 'Ready',
      complete: 'Complete',
      cancel: 'Cancel order',
      refund: 'Refund',
    },
    confirm: {
      cancel: 'Cancel order {number}? A paid order is refunded.',
      refund: 'Refund order {number} in full?',
    },
    dineIn: 'Dine-in',
    table: 'Table {table}',
    takeaway: 'Takeaway',
    delivery: 'Delivery',
    counter: 'Pay at counter',
    wechatPay: 'WeChat Pay',
    total: 'Total',
    discountKinds: { promotion: 'Promotion', memberLevel: 'Member discount', coupon: 'Coupon', points: 'Points' },
    remark: 'Remark',
    empty: 'No orders',
    done: '{action}: {number}',
    newOrder: 'New order {number}',
  },
  reasons: {
    ordering: {
      ORDER_NOT_FOUND: 'Order not found',
      INVALID_TRANSITION: 'The order is “{status}”: it cannot be {action}',
      PRICE_CHANGED: 'Prices changed: the total is now ¥{actual}, not ¥{expected}',
    },
  },
}

export default en
