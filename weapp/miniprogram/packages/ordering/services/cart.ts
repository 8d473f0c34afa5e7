/**
 * The cart: lines per SKU, kept in wx storage per shop. Prices here are the menu's and only an
 * estimate for the cart bar: the amount to pay always comes from the server's quote.
 * Pure functions over a `Cart` value, plus `loadCart`/`saveCart`.
 */
import * as storage from '../../../core/storage';
import { specLabel, type Menu, type MenuProduct, type Sku } from '../../../services/catalog';

export interface CartLine {
  skuId: string;
  productId: string;
  name: string;
  specs: string;
  unitFen: number;
  quantity: number;
}

export interface Cart {
  lines: CartLine[];
}

/** Most of one SKU in one order: stops a stuck finger from ordering 500 coffees. */
export const MAX_QUANTITY = 99;

export const EMPTY: Cart = { lines: [] };

const KEY = 'ordering.cart';

function clamp(q: number): number {
  return Math.max(0, Math.min(MAX_QUANTITY, Math.floor(q)));
}

export function add(cart: Cart, product: MenuProduct, sku: Sku, quantity = 1): Cart {
  const existing = cart.lines.find((l) => l.skuId === sku.id);
  if (existing) return setQuantity(cart, sku.id, existing.quantity + quantity);
  const q = clamp(quantity);
  if (q === 0) return cart;
  const line: CartLine = {
    skuId: sku.id,
    productId: product.id,
    name: product.name_zh,
    specs: specLabel(sku),
    unitFen: sku.price_fen,
    quantity: q,
  };
  return { lines: [...cart.lines, line] };
}

/** Sets a line's quantity; 0 removes it. */
export function setQuantity(cart: Cart, skuId: string, quantity: number): Cart {
  const q = clamp(quantity);
  return {
    lines: q === 0 ? cart.lines.filter((l) => l.skuId !== skuId) : cart.lines.map((l) => (l.skuId === skuId ? { ...l, quantity: q } : l)),
  };
}

export function count(cart: Cart): number {
  return cart.lines.reduce((n, l) => n + l.quantity, 0);
}

/** Estimated subtotal in fen (the server's quote decides). */
export function subtotal(cart: Cart): number {
  return cart.lines.reduce((n, l) => n + l.unitFen * l.quantity, 0);
}

/** How many of a product's SKUs are in the cart, for the badge on the menu. */
export function quantityOfProduct(cart: Cart, productId: string): number {
  return cart.lines.filter((l) => l.productId === productId).reduce((n, l) => n + l.quantity, 0);
}

/**
 * Brings the cart in line with a newer menu: lines whose SKU is gone or sold out leave (and are
 * returned so the page can say so); names, specs and prices follow the menu.
 */
export function reconcile(cart: Cart, menu: Menu): { cart: Cart; removed: CartLine[]; repriced: CartLine[] } {
  const skus = new Map<string, { product: MenuProduct; sku: Sku }>();
  for (const s of menu.sections) for (const p of s.products) for (const k of p.skus) skus.set(k.id, { product: p, sku: k });
  const removed: CartLine[] = [];
  const repriced: CartLine[] = [];
  const lines: CartLine[] = [];
  for (const l of cart.lines) {
    const hit = skus.get(l.skuId);
    if (!hit || !hit.sku.available) {
      removed.push(l);
      continue;
    }
    const next = { ...l, productId: hit.product.id, name: hit.product.name_zh, specs: specLabel(hit.sku), unitFen: hit.sku.price_fen };
    if (next.unitFen !== l.unitFen) repriced.push(next);
    lines.push(next);
  }
  return { cart: { lines }, removed, repriced };
}

/** The items as the order routes take them. */
export function items(cart: Cart): { product_id: string; sku_id: string; quantity: number }[] {
  return cart.lines.map((l) => ({ product_id: l.productId, sku_id: l.skuId, quantity: l.quantity }));
}

export function loadCart(): Cart {
  const c = storage.load<Cart>(KEY);
  return c && Array.isArray(c.lines) ? c : EMPTY;
}

export function saveCart(cart: Cart): void {
  storage.save(KEY, cart);
}
