/**
 * Ordering-module state the pages share: the dine-in table from the QR code and the module's
 * public config. The order calls arrive with the ordering BFF routes.
 */
import * as storage from '../../../core/storage';

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
