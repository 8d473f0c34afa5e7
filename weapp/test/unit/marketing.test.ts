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
import {
  marketingConfig,
  type Coupon,
  type Member,
  type PointsEntry,
  type Terms,
} from '../../miniprogram/packages/marketing/services/marketing';
import { cardView, entryView, historyView, progress, signed } from '../../miniprogram/packages/marketing/services/member-view';

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

describe('the member card', () => {
  const silver = { name_zh: '银卡会员', name_en: 'Silver', threshold: 10000, discount_percent: 5, perks: '生日双倍积分' };
  const gold = { name_zh: '金卡会员', name_en: 'Gold', threshold: 50000, discount_percent: 12, perks: '' };

  function member(over: Partial<Member> = {}): Member {
    return { points: 230, lifetime_points: 260, lifetime_spend_fen: 26000, level: silver, next_level: gold, ...over };
  }

  function entry(over: Partial<PointsEntry> = {}): PointsEntry {
    return { delta: 46, balance_after: 46, kind: 'ORDER_PAID', order_id: 'o1', reason: '', create_time: '2026-12-06T04:00:00Z', ...over };
  }

  const bySpend = { pointsPerYuan: 1, levelsBy: 'spend' as const };
  const byPoints = { pointsPerYuan: 2, levelsBy: 'points' as const };

  it('reads the shop’s points and levels from its public config, with the spec’s defaults', () => {
    const withConfig = (config: Record<string, unknown>) => ({ modules: [{ id: 'marketing', config }] }) as never;
    expect(marketingConfig(undefined)).toEqual({ pointsPerYuan: 1, levelsBy: 'spend' });
    expect(marketingConfig(withConfig({ points_per_yuan: 3, levels_by: 'points' }))).toEqual({ pointsPerYuan: 3, levelsBy: 'points' });
    expect(marketingConfig(withConfig({ points_per_yuan: 0 }))).toEqual({ pointsPerYuan: 0, levelsBy: 'spend' });
    // What no release of the spec writes falls back to its defaults.
    expect(marketingConfig(withConfig({ points_per_yuan: -1, levels_by: 'visits' }))).toEqual({ pointsPerYuan: 1, levelsBy: 'spend' });
    expect(marketingConfig(withConfig({ points_per_yuan: 1.5 })).pointsPerYuan).toBe(1);
  });

  it('shows the level, its discount in 折 and perks, and how points are earned', () => {
    expect(cardView(member(), bySpend)).toEqual({
      level: '银卡会员',
      points: 230,
      discount: '下单享9.5折',
      perks: '生日双倍积分',
      progress: '再消费240元升级为金卡会员',
      percent: 40,
      earn: '每消费1元得1积分',
    });
    expect(cardView(member({ level: gold, next_level: null }), byPoints)).toMatchObject({
      level: '金卡会员',
      discount: '下单享8.8折',
      perks: '',
      progress: '已是最高等级',
      percent: 100,
      earn: '每消费1元得2积分',
    });
  });

  it('calls a customer below the first level 普通会员, and says nothing of points a shop does not give', () => {
    const card = cardView(member({ points: 0, lifetime_points: 0, lifetime_spend_fen: 1250, level: null, next_level: silver }), {
      pointsPerYuan: 0,
      levelsBy: 'spend',
    });
    expect(card).toEqual({
      level: '普通会员',
      points: 0,
      discount: '',
      perks: '',
      progress: '再消费87.5元升级为银卡会员',
      percent: 12,
      earn: '',
    });
    // A shop without levels: no way to go.
    expect(cardView(member({ level: undefined, next_level: undefined }), bySpend)).toMatchObject({
      level: '普通会员',
      progress: '',
      percent: 0,
    });
    // A level without a discount says none.
    expect(cardView(member({ level: { ...silver, discount_percent: 0 } }), bySpend).discount).toBe('');
  });

  it('counts the way to the next level in the unit the shop’s levels are reached by', () => {
    const m = member({ lifetime_points: 120, lifetime_spend_fen: 12345, level: null, next_level: { ...silver, threshold: 300 } });
    expect(progress(m, 'points')).toEqual({ text: '再获得180积分升级为银卡会员', percent: 40 });
    const spend = member({ lifetime_spend_fen: 12345, level: null, next_level: { ...silver, threshold: 20000 } });
    expect(progress(spend, 'spend')).toEqual({ text: '再消费76.55元升级为银卡会员', percent: 61 });
    // The phone's config reads the levels by the other unit than the server did (changed since):
    // nothing rather than "再消费0元".
    expect(progress(member({ lifetime_points: 60000 }), 'points')).toEqual({ text: '', percent: 100 });
  });

  it('says each change of points in Chinese, with its sign and the shop’s reason', () => {
    expect(entryView(entry(), '0', CN)).toEqual({
      key: '0',
      text: '订单支付 +46',
      gain: true,
      time: '2026.12.06 12:00',
      balance: '余额 46',
    });
    expect(entryView(entry({ delta: -46, balance_after: 0, kind: 'ORDER_REFUNDED' }), '1', CN)).toMatchObject({
      text: '订单退款 -46',
      gain: false,
      balance: '余额 0',
    });
    expect(entryView(entry({ delta: 50, kind: 'ADJUSTED', order_id: null, reason: ' 生日礼 ' }), '2', CN).text).toBe(
      '门店调整 +50 · 生日礼',
    );
    expect(entryView(entry({ delta: -20, kind: 'ADJUSTED', order_id: undefined, reason: '兑换礼品' }), '3', CN).text).toBe(
      '门店调整 -20 · 兑换礼品',
    );
    // Paying with points, getting them back, and a completed booking.
    expect(entryView(entry({ delta: -500, balance_after: 700, kind: 'ORDER_SPENT' }), '5', CN).text).toBe('积分抵扣 -500');
    expect(entryView(entry({ delta: 500, balance_after: 1_200, kind: 'ORDER_RETURNED' }), '6', CN).text).toBe('积分退回 +500');
    expect(entryView(entry({ delta: 20, kind: 'BOOKING_COMPLETED', order_id: null }), '7', CN).text).toBe('预约完成 +20');
    // A kind this release does not know still reads as a change of points.
    expect(entryView(entry({ kind: 'EXPIRED', delta: -5 }), '4', CN).text).toBe('积分变动 -5');
    expect([5, 0, -5].map(signed)).toEqual(['+5', '0', '-5']);
  });

  it('keys the history by place, newest first as listed', () => {
    const views = historyView([entry({ delta: 50, kind: 'ADJUSTED', reason: '补偿' }), entry()], CN);
    expect(views.map((v) => [v.key, v.text])).toEqual([
      ['0', '门店调整 +50 · 补偿'],
      ['1', '订单支付 +46'],
    ]);
  });
});
