/**
 * The ordering module's BFF calls (quote, place, pay, list, detail, cancel), WeChat Pay, and the
 * state its pages share: the dine-in table from the QR code.
 */
import type { components } from '../../../core/api/schema';
import { api } from '../../../core/api';
import * as storage from '../../../core/storage';
import { payThenRefresh } from '../../../services/pay';
import * as cartOps from './cart';
import { BEST, couponFields, pointsFields, type CouponChoice } from './discounts';

export type Quote = components['schemas']['QuoteDto'];
export type Order = components['schemas']['OrderDto'];
export type Fulfilment = components['schemas']['FulfilmentDto'];
export type PayResult = components['schemas']['PayDto'];
export type OrdersPage = components['schemas']['OrdersPageDto'];
export type { WechatPay } from '../../../services/pay';

/** Statuses after which nothing more happens to an order. */
export const FINAL_STATUSES: readonly string[] = ['completed', 'cancelled', 'refunded'];

/**
 * Prices the basket, with the discounts of `coupon` (by default the best coupon the customer
 * holds) and, when `usePoints`, as many of the customer's points as the shop allows.
 */
export function quote(cart: cartOps.Cart, fulfilment: Fulfilment, coupon: CouponChoice = BEST, usePoints = false): Promise<Quote> {
  return api.post('/api/v1/orders/quote', {
    body: { items: cartOps.items(cart), fulfilment, ...couponFields(coupon), ...pointsFields(usePoints) },
  });
}

/**
 * Places the order. `idempotencyKey` stays the same for every attempt at this checkout (the
 * client's own retries and the customer's second tap), so at most one order comes of it.
 * `coupon` and `usePoints` must be what the quote was asked with and `expectedTotalFen` that
 * quote's total: the server takes the coupon and the points off again and refuses a total that
 * differs (PRICE_CHANGED: e.g. the points were spent by another order meanwhile).
 */
export function placeOrder(input: {
  cart: cartOps.Cart;
  fulfilment: Fulfilment;
  remark: string;
  expectedTotalFen: number;
  idempotencyKey: string;
  coupon?: CouponChoice;
  usePoints?: boolean;
}): Promise<Order> {
  return api.post('/api/v1/orders', {
    body: {
      items: cartOps.items(input.cart),
      fulfilment: input.fulfilment,
      remark: input.remark,
      expected_total_fen: input.expectedTotalFen,
      ...couponFields(input.coupon ?? BEST),
      ...pointsFields(input.usePoints ?? false),
    },
    idempotencyKey: input.idempotencyKey,
  });
}

export function pay(orderId: string, method: string): Promise<PayResult> {
  return api.post('/api/v1/orders/{id}/pay', { path: { id: orderId }, body: { method } });
}

/** Asks the server to check with WeChat Pay (the notification may arrive later than the phone). */
export function refreshPayment(orderId: string): Promise<Order> {
  return api.post('/api/v1/orders/{id}/payment/refresh', { path: { id: orderId } });
}

export function getOrder(orderId: string): Promise<Order> {
  return api.get('/api/v1/orders/{id}', { path: { id: orderId } });
}

export function cancelOrder(orderId: string): Promise<Order> {
  return api.post('/api/v1/orders/{id}/cancel', { path: { id: orderId } });
}

export function listOrders(pageToken?: string): Promise<OrdersPage> {
  return api.get('/api/v1/orders', { query: { page_size: 20, page_token: pageToken ?? null } });
}

/**
 * Pays an order: WeChat Pay opens the payment sheet and then asks the server to confirm; the
 * counter method only records the choice. Returns the order as it stands afterwards.
 */
export async function payOrder(orderId: string, method: string): Promise<{ order: Order; outcome: 'paid' | 'cancelled' | 'counter' }> {
  const r = await pay(orderId, method);
  if (!r.wechat_pay) return { order: r.order, outcome: 'counter' };
  const paid = await payThenRefresh(r.wechat_pay, r.order, () => refreshPayment(orderId));
  return { order: paid.result, outcome: paid.outcome };
}

const TABLE_KEY = 'ordering.table';

/**
 * The table a QR code names. A mini-program code carries `scene` (URL-encoded, at most 32
 * characters: `t=12` or `table=12`); a plain link may carry `table=12`. Only short
 * letters/digits/dashes count as a table.
 */
export function tableFromQuery(query: Record<string, string | undefined>): string | undefined {
  const candidates: (string | undefined)[] = [query.table];
  if (query.scene) {
    let scene = query.scene;
    try {
      scene = decodeURIComponent(scene);
    } catch {
      // keep it raw
    }
    for (const part of scene.split('&')) {
      const [k, v] = part.split('=');
      if (k === 't' || k === 'table') candidates.push(v);
    }
  }
  return candidates.find((t): t is string => !!t && /^[A-Za-z0-9-]{1,16}$/.test(t));
}

/** Remembers the table for this visit (kept until an order is placed or another code is scanned). */
export function rememberTable(table: string | undefined): void {
  if (table) storage.save(TABLE_KEY, table);
}

export function currentTable(): string | undefined {
  return storage.load<string>(TABLE_KEY);
}

export function forgetTable(): void {
  storage.remove(TABLE_KEY);
}

/** A delivery address as `wx.chooseAddress` gives it, shaped for the order. */
export interface DeliveryAddress {
  contact_name: string;
  phone: string;
  region: string;
  detail: string;
}

/** The ordering module's public config, with the spec's defaults for anything missing. */
export interface OrderingConfig {
  fulfilmentModes: string[];
  paymentMethods: string[];
  minOrderFen: number;
  packagingFeeFen: number;
  cancelWindowMinutes: number;
}

export function orderingConfig(config: { modules: { id: string; config: Record<string, unknown> }[] } | undefined): OrderingConfig {
  const c = config?.modules.find((m) => m.id === 'ordering')?.config ?? {};
  const strings = (v: unknown, d: string[]) =>
    Array.isArray(v) && v.every((x) => typeof x === 'string') && v.length ? (v as string[]) : d;
  const int = (v: unknown, d: number) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : d);
  return {
    fulfilmentModes: strings(c.fulfilment_modes, ['dine_in', 'takeaway']),
    paymentMethods: strings(c.payment_methods, ['wechat_pay']),
    minOrderFen: int(c.min_order_fen, 0),
    packagingFeeFen: int(c.packaging_fee_fen, 0),
    cancelWindowMinutes: int(c.cancel_window_minutes, 5),
  };
}
