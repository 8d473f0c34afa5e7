/**
 * How an order reads on screen: status and reason in Chinese, amounts in yuan, times in the
 * phone's local time, and which actions apply. Pure.
 */
import { format, strings, yuan } from '../../../core/locale/index';
import { discountLines, type DiscountLine } from './discounts';
import type { Order } from './ordering';

const T = strings.order;

export interface OrderView {
  id: string;
  number: string;
  status: string;
  statusText: string;
  cancelReason: string;
  mode: string;
  table: string;
  address: string;
  remark: string;
  lines: { key: string; name: string; specs: string; quantity: number; total: string }[];
  count: number;
  items: string;
  packaging: string;
  /** What discounts took off ("优惠券 满100减20", "-¥20.00"); none for an order without. */
  discounts: DiscountLine[];
  total: string;
  refunded: string;
  created: string;
  paidAt: string;
  payBy: string;
  canPay: boolean;
  canCancel: boolean;
}

/** "2026-11-24 13:05" in the phone's time zone; empty for an empty or bad time. */
export function localTime(rfc3339: string | null | undefined): string {
  if (!rfc3339) return '';
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function orderView(o: Order): OrderView {
  const a = o.fulfilment.address;
  return {
    id: o.id,
    number: o.order_number,
    status: o.status,
    statusText: T.status[o.status] ?? o.status,
    cancelReason: T.cancelReasons[o.cancel_reason] ?? '',
    mode: strings.cart.modes[o.fulfilment.mode] ?? o.fulfilment.mode,
    table: o.fulfilment.table ?? '',
    address: a ? `${a.contact_name} ${a.phone} ${a.region} ${a.detail}`.trim() : '',
    remark: o.remark,
    lines: o.items.map((l) => ({
      key: l.sku_id,
      name: l.name,
      specs: l.spec_summary,
      quantity: l.quantity,
      total: yuan(l.line_total_fen),
    })),
    count: o.items.reduce((n, l) => n + l.quantity, 0),
    items: yuan(o.amounts.items_fen),
    packaging: yuan(o.amounts.packaging_fee_fen),
    discounts: discountLines(o.discounts),
    total: yuan(o.amounts.total_fen),
    refunded: o.refunded_fen > 0 ? yuan(o.refunded_fen) : '',
    created: localTime(o.create_time),
    paidAt: localTime(o.pay_time),
    payBy: o.status === 'pending_payment' && o.expire_time ? format(T.payBy, { time: localTime(o.expire_time) }) : '',
    canPay: o.status === 'pending_payment',
    // The server decides (cancel window, accepted or not); offer it where it can apply.
    canCancel: o.status === 'pending_payment' || o.status === 'paid',
  };
}
