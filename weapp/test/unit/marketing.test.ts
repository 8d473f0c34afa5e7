import {
  afterClaim,
  afterRefusal,
  byTab,
  condition,
  couponView,
  face,
  heldByTemplate,
  notes,
  rate,
  rule,
  stamp,
  tabOf,
  templateValidity,
  templateView,
  yuanShort,
} from '../../miniprogram/packages/marketing/services/coupon-view';
import type { Coupon, Terms } from '../../miniprogram/packages/marketing/services/marketing';

/** Shanghai: every time below reads at UTC+8. */
const CN = 480;
const NOW = Date.parse('2026-12-06T04:00:00Z'); // 12:00 in Shanghai

function terms(over: Partial<Terms> = {}): Terms {
  return {
    id: 'tpl-1',
    title_zh: '满100减20',
    title_en: '¥20 off ¥100',
    description: '',
    kind: 'threshold',
    amount_off_fen: 2000,
    percent_off: 0,
    cap_fen: 0,
    threshold_fen: 10000,
    free_product_id: '',
    valid_from: null,
    valid_until: null,
    valid_days: 7,
    modules: [],
    limited_scope: false,
    per_customer_limit: 1,
    remaining: 10,
    ...over,
  };
}

function coupon(over: Partial<Coupon> = {}): Coupon {
  return {
    id: 'c1',
    state: 'available',
    terms: terms(),
    valid_from: '2026-12-01T04:00:00Z',
    valid_until: '2026-12-08T08:00:00Z',
    order_id: '',
    source: 'claimed',
    ...over,
  };
}

describe('coupon terms in the customer’s words', () => {
  it('says yuan without needless decimals', () => {
    expect([10000, 950, 1234, 5, 0, 100].map(yuanShort)).toEqual(['100', '9.5', '12.34', '0.05', '0', '1']);
  });

  it('says a percentage off as 折', () => {
    expect([20, 15, 12, 25, 1, 99].map(rate)).toEqual(['8', '8.5', '8.8', '7.5', '9.9', '0.1']);
  });

  it('reads each kind of coupon', () => {
    expect(rule(terms())).toBe('满100减20');
    expect(rule(terms({ kind: 'amount_off', amount_off_fen: 500, threshold_fen: 0 }))).toBe('无门槛立减5元');
    expect(rule(terms({ kind: 'amount_off', amount_off_fen: 550, threshold_fen: 5000 }))).toBe('满50减5.5');
    expect(rule(terms({ kind: 'percent_off', percent_off: 20, cap_fen: 1000, threshold_fen: 0 }))).toBe('8折 最高减10元');
    expect(rule(terms({ kind: 'percent_off', percent_off: 15, cap_fen: 0, threshold_fen: 0 }))).toBe('8.5折');
    expect(rule(terms({ kind: 'percent_off', percent_off: 20, cap_fen: 1000, threshold_fen: 10000 }))).toBe('满100享8折 最高减10元');
    expect(rule(terms({ kind: 'free_item', threshold_fen: 0 }))).toBe('兑换券');
    expect(rule(terms({ kind: 'free_item', threshold_fen: 3000 }))).toBe('兑换券 满30元可用');
    // A kind this release does not know: the shop's own title.
    expect(rule(terms({ kind: 'gift_card', title_zh: '礼品卡' }))).toBe('礼品卡');
  });

  it('gives the card its face and condition', () => {
    expect([face(terms()), condition(terms())]).toEqual(['¥20', '满100可用']);
    expect([face(terms({ kind: 'amount_off', threshold_fen: 0 })), condition(terms({ threshold_fen: 0 }))]).toEqual(['¥20', '无门槛']);
    expect(face(terms({ kind: 'percent_off', percent_off: 12 }))).toBe('8.8折');
    expect(face(terms({ kind: 'free_item' }))).toBe('兑换');
  });

  it('notes a limited scope and a single module', () => {
    expect(notes(terms())).toEqual([]);
    expect(notes(terms({ limited_scope: true, modules: ['ordering'] }))).toEqual(['限部分商品可用', '仅限点单使用']);
    expect(notes(terms({ modules: ['booking'] }))).toEqual(['仅限预约使用']);
    expect(notes(terms({ modules: ['ordering', 'booking'] }))).toEqual([]);
  });

  it('reads times at the offset given, and nothing for a bad one', () => {
    expect(stamp('2026-12-08T08:00:00Z', CN)).toBe('2026.12.08 16:00');
    expect(stamp('2026-12-31T16:30:00Z', CN)).toBe('2027.01.01 00:30');
    expect(stamp('2026-12-08T08:00:00Z', -300)).toBe('2026.12.08 03:00');
    expect(stamp('', CN)).toBe('');
    expect(stamp('not a time', CN)).toBe('');
  });

  it('says how long a template’s coupons last', () => {
    expect(templateValidity(terms({ valid_days: 7 }), NOW, CN)).toBe('领取后 7 天内有效');
    const fixed = { valid_days: 0, valid_from: '2026-12-01T00:00:00Z', valid_until: '2026-12-31T15:59:00Z' };
    expect(templateValidity(terms(fixed), NOW, CN)).toBe('有效期至 2026.12.31 23:59');
    const later = { ...fixed, valid_from: '2026-12-20T02:00:00Z' };
    expect(templateValidity(terms(later), NOW, CN)).toBe('2026.12.20 10:00 至 2026.12.31 23:59');
  });
});

describe('the coupon centre', () => {
  it('offers a template until the customer holds their limit or none are left', () => {
    const open = templateView({ terms: terms({ remaining: 8 }), held: 0 }, NOW, CN);
    expect(open).toMatchObject({
      id: 'tpl-1',
      status: 'open',
      action: '立即领取',
      remaining: '剩余 8 张',
      held: '',
      limit: '',
      face: '¥20',
      rule: '满100减20',
      validity: '领取后 7 天内有效',
    });
    const twoEach = terms({ per_customer_limit: 2 });
    expect(templateView({ terms: twoEach, held: 1 }, NOW, CN)).toMatchObject({
      status: 'open',
      action: '再领一张',
      held: '已领 1 张',
      limit: '每人限领 2 张',
    });
    expect(templateView({ terms: twoEach, held: 2 }, NOW, CN)).toMatchObject({ status: 'claimed', action: '已领取', held: '' });
    expect(templateView({ terms: terms({ remaining: 0 }), held: 0 }, NOW, CN)).toMatchObject({
      status: 'soldOut',
      action: '已抢光',
      remaining: '',
    });
    // Held to the limit and none left: what matters to this customer is that they have it.
    expect(templateView({ terms: terms({ remaining: 0 }), held: 1 }, NOW, CN).status).toBe('claimed');
  });

  it('counts what the customer holds of each template, in every state', () => {
    const held = heldByTemplate([coupon(), coupon({ id: 'c2', state: 'used' }), coupon({ id: 'c3', terms: terms({ id: 'tpl-2' }) })]);
    expect(Object.fromEntries(held)).toEqual({ 'tpl-1': 2, 'tpl-2': 1 });
  });

  it('counts a claim that went through: one more held, one fewer left', () => {
    const entries = [
      { terms: terms({ remaining: 1, per_customer_limit: 2 }), held: 0 },
      { terms: terms({ id: 'tpl-2' }), held: 0 },
    ];
    const next = afterClaim(entries, 'tpl-1');
    expect(next.map((e) => [e.terms.id, e.held, e.terms.remaining])).toEqual([
      ['tpl-1', 1, 0],
      ['tpl-2', 0, 10],
    ]);
    expect(templateView(next[0]!, NOW, CN).status).toBe('soldOut');
    expect(afterClaim(next, 'tpl-1')[0]!.terms.remaining).toBe(0);
  });

  it('shows what a refusal says: none left, the limit held, or the template gone', () => {
    const entries = [
      { terms: terms({ per_customer_limit: 3 }), held: 1 },
      { terms: terms({ id: 'tpl-2' }), held: 0 },
    ];
    const soldOut = afterRefusal(entries, 'tpl-1', 'COUPONS_SOLD_OUT');
    expect(templateView(soldOut[0]!, NOW, CN).status).toBe('soldOut');
    const limit = afterRefusal(entries, 'tpl-1', 'COUPON_LIMIT_REACHED');
    expect(templateView(limit[0]!, NOW, CN).status).toBe('claimed');
    for (const code of ['COUPON_TEMPLATE_STOPPED', 'COUPON_TEMPLATE_EXPIRED', 'COUPON_NOT_CLAIMABLE', 'COUPON_TEMPLATE_NOT_FOUND']) {
      expect(afterRefusal(entries, 'tpl-1', code).map((e) => e.terms.id)).toEqual(['tpl-2']);
    }
    // A failure that says nothing of the template (the network) changes nothing.
    expect(afterRefusal(entries, 'tpl-1', 'NETWORK')).toEqual(entries);
  });
});

describe('my coupons', () => {
  it('puts each coupon in its tab: one past its end is expired whatever its state says', () => {
    expect(tabOf(coupon(), NOW)).toBe('available');
    expect(tabOf(coupon({ state: 'locked' }), NOW)).toBe('available');
    expect(tabOf(coupon({ state: 'used' }), NOW)).toBe('used');
    expect(tabOf(coupon({ state: 'expired' }), NOW)).toBe('expired');
    expect(tabOf(coupon({ valid_until: '2026-12-06T03:59:00Z' }), NOW)).toBe('expired');
  });

  it('says when a coupon can be used, and why not', () => {
    expect(couponView(coupon(), NOW, CN)).toMatchObject({
      validity: '有效期至 2026.12.08 16:00',
      stateText: '',
      usable: true,
      forOrdering: true,
    });
    expect(couponView(coupon({ state: 'locked' }), NOW, CN)).toMatchObject({ stateText: '待支付订单使用中', usable: false });
    expect(couponView(coupon({ valid_from: '2026-12-07T01:00:00Z' }), NOW, CN)).toMatchObject({
      validity: '2026.12.07 09:00 起可用，有效期至 2026.12.08 16:00',
      usable: false,
    });
    expect(couponView(coupon({ state: 'expired', valid_until: '2026-12-05T16:00:00Z' }), NOW, CN)).toMatchObject({
      validity: '已于 2026.12.06 00:00 过期',
      stateText: '已过期',
    });
    expect(couponView(coupon({ state: 'used' }), NOW, CN)).toMatchObject({ stateText: '已使用', usable: false });
    // A coupon only booking takes has no "去使用" at ordering.
    expect(couponView(coupon({ terms: terms({ modules: ['booking'] }) }), NOW, CN).forOrdering).toBe(false);
  });

  it('lists usable coupons first, soonest to end first, and keeps the server’s order elsewhere', () => {
    const tabs = byTab(
      [
        coupon({ id: 'late', valid_until: '2026-12-20T00:00:00Z' }),
        coupon({ id: 'held', state: 'locked', valid_until: '2026-12-07T00:00:00Z' }),
        coupon({ id: 'used-new', state: 'used' }),
        coupon({ id: 'soon', valid_until: '2026-12-07T00:00:00Z' }),
        coupon({ id: 'gone', state: 'expired', valid_until: '2026-12-01T00:00:00Z' }),
        coupon({ id: 'used-old', state: 'used' }),
      ],
      NOW,
      CN,
    );
    expect(tabs.available.map((c) => c.id)).toEqual(['soon', 'late', 'held']);
    expect(tabs.used.map((c) => c.id)).toEqual(['used-new', 'used-old']);
    expect(tabs.expired.map((c) => c.id)).toEqual(['gone']);
  });
});
