import {
  add,
  count,
  items,
  MAX_QUANTITY,
  quantityOfProduct,
  reconcile,
  setQuantity,
  subtotal,
  EMPTY,
} from '../../miniprogram/packages/ordering/services/cart';
import { menu } from '../support/wx';

const m = menu();
const latte = m.sections[0].products[0];
const water = m.sections[0].products[1];

describe('cart', () => {
  it('merges the same SKU into one line and keeps SKUs of one product apart', () => {
    let c = add(EMPTY, latte, latte.skus[0], 1);
    c = add(c, latte, latte.skus[0], 2);
    c = add(c, latte, latte.skus[1], 1);
    expect(c.lines.map((l) => [l.skuId, l.quantity])).toEqual([
      ['s-latte-m-hot', 3],
      ['s-latte-l-hot', 1],
    ]);
    expect(c.lines[0]!.specs).toBe('中杯 / 热');
    expect(quantityOfProduct(c, 'p-latte')).toBe(4);
    expect(count(c)).toBe(4);
    expect(subtotal(c)).toBe(3 * 2500 + 2800);
  });

  it('caps a line at the maximum and removes it at zero', () => {
    let c = add(EMPTY, water, water.skus[0], 500);
    expect(c.lines[0]!.quantity).toBe(MAX_QUANTITY);
    c = setQuantity(c, 's-water', 0);
    expect(c.lines).toEqual([]);
    expect(add(EMPTY, water, water.skus[0], 0)).toEqual(EMPTY);
  });

  it('drops sold-out or removed SKUs and follows new prices when the menu changes', () => {
    let c = add(EMPTY, latte, latte.skus[0], 1);
    c = add(c, water, water.skus[0], 2);
    c = { lines: [...c.lines, { skuId: 'gone', productId: 'p-x', name: '旧商品', specs: '', unitFen: 100, quantity: 1 }] };
    const next = menu();
    next.sections[0].products[0].skus[0].price_fen = 2600;
    next.sections[0].products[1].skus[0].available = false;
    const r = reconcile(c, next);
    expect(r.cart.lines.map((l) => [l.skuId, l.unitFen])).toEqual([['s-latte-m-hot', 2600]]);
    expect(r.removed.map((l) => l.skuId)).toEqual(['s-water', 'gone']);
    expect(r.repriced.map((l) => l.skuId)).toEqual(['s-latte-m-hot']);
  });

  it('lists the items as the order routes take them', () => {
    const c = add(add(EMPTY, water, water.skus[0], 2), latte, latte.skus[1], 1);
    expect(items(c)).toEqual([
      { product_id: 'p-water', sku_id: 's-water', quantity: 2 },
      { product_id: 'p-latte', sku_id: 's-latte-l-hot', quantity: 1 },
    ]);
  });
});
