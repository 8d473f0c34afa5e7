// Coupons against the real BFF, through the services the pages use: the demo shop switches
// marketing on and its admin creates a claimable "满减" template for the checkout of ordering
// (over gRPC); a customer finds it in the coupon centre, claims it once per key and is refused a
// second with the limit in Chinese; the checkout's quote greys it out below its threshold, takes
// it off above (as the best coupon, or picked), and leaves it off when asked; the order placed
// with it and the quote's total carries the discount, holds the coupon, and gives it back when
// cancelled; with marketing off the quote has no coupons and the checkout shows nothing new.
// The member card: an order paid at the counter (staff confirming it) earns the demo shop's point
// a yuan and reaches a level by spend; the card and the points history say so, with the shop's
// adjustment and the points a refund takes back.
import { admin, phone as openPhone, start, type Server } from '../support/platform';

let server: Server;
let shop: ReturnType<typeof admin>;
let template: string;
/** The first product with an available SKU, and that SKU's price. */
let priceFen: number;
/** The template: 满 two units 减 this (at most ¥5). */
let offFen: number;
const TITLE = '合同测试满减券';

beforeAll(async () => {
  server = await start();
  const { boot, catalog } = await openPhone(server);
  const config = await boot.start();
  shop = admin(server, config.tenant_id);
  // Open around the clock, so the test does not depend on the hour it runs.
  shop.configure('ordering', { opening_hours: [], payment_methods: ['counter', 'wechat_pay'], fulfilment_modes: ['dine_in', 'takeaway'] });
  shop.enable('marketing');
  const menu = await catalog.getMenu();
  const sku = menu.sections.flatMap((s) => s.products).flatMap((p) => p.skus.filter((k) => k.available))[0]!;
  priceFen = sku.price_fen;
  offFen = Math.min(500, priceFen);
  template = shop.createCouponTemplate({
    title_zh: TITLE,
    description: '合同测试',
    kind: 'COUPON_KIND_THRESHOLD',
    amount_off_fen: offFen,
    threshold_fen: 2 * priceFen,
    valid_days: 7,
    total_quantity: 5,
    per_customer_limit: 1,
    modules: ['ordering'],
    claimable: true,
  });
});

afterAll(async () => {
  await server?.stop();
});

/** A logged-in customer whose app has the current config. */
async function customer() {
  const p = await openPhone(server);
  await p.auth.login();
  await p.boot.refresh(true);
  return p;
}

type Phone = Awaited<ReturnType<typeof customer>>;

/** A cart of `units` of the first available SKU. */
async function cartOf(p: Phone, units: number) {
  const menu = await p.catalog.getMenu();
  const product = menu.sections.flatMap((s) => s.products).find((x) => x.skus.some((k) => k.available))!;
  return p.cart.add(
    p.cart.EMPTY,
    product,
    product.skus.find((k) => k.available)!,
    units,
  );
}

/** "满36减5": the template's terms as written by hand, to check the client's own reading. */
const expectedRule = () => `满${(2 * priceFen) / 100}减${offFen / 100}`;
const fulfilment = { mode: 'takeaway', table: null, address: null };

describe('coupons against the real BFF', () => {
  it('shows the template in the coupon centre, claims it once per key and refuses a second in Chinese', async () => {
    const p = await customer();
    expect(p.modules.isEnabled(p.boot.config(), 'marketing')).toBe(true);
    const centre = await p.marketing.listCentre();
    const terms = centre.templates.find((t) => t.id === template)!;
    expect(terms).toMatchObject({
      title_zh: TITLE,
      kind: 'threshold',
      amount_off_fen: offFen,
      threshold_fen: 2 * priceFen,
      valid_days: 7,
      modules: ['ordering'],
      per_customer_limit: 1,
      remaining: 5,
    });
    const now = Date.now();
    expect(p.coupons.templateView({ terms, held: 0 }, now)).toMatchObject({
      status: 'open',
      action: '立即领取',
      rule: expectedRule(),
      remaining: '剩余 5 张',
      validity: '领取后 7 天内有效',
      notes: ['仅限点单使用'],
    });

    const key = p.client.newIdempotencyKey();
    const coupon = await p.marketing.claim(template, key);
    expect(coupon).toMatchObject({ state: 'available', source: 'claimed' });
    // No order holds it: the BFF leaves order_id out.
    expect(coupon.order_id).toBeUndefined();
    expect(coupon.terms).toMatchObject({ id: template, title_zh: TITLE });
    // The same tap retried: the same coupon, nothing more handed out.
    expect((await p.marketing.claim(template, key)).id).toBe(coupon.id);
    // What the page counts after a claim is what the centre then says.
    const counted = p.coupons.afterClaim([{ terms, held: 0 }], template)[0]!;
    expect(counted.terms.remaining).toBe(4);
    expect((await p.marketing.listCentre()).templates.find((t) => t.id === template)!.remaining).toBe(4);

    const again = await p.marketing.claim(template, p.client.newIdempotencyKey()).catch((e: unknown) => e);
    expect(again).toMatchObject({ status: 400, code: 'COUPON_LIMIT_REACHED' });
    expect(p.marketing.describeError(again)).toBe('每人限领 1 张，你已领满');

    const mine = await p.marketing.listAllCoupons();
    expect(mine.filter((c) => c.terms.id === template).map((c) => c.id)).toEqual([coupon.id]);
    expect((await p.marketing.listCoupons('available')).coupons.map((c) => c.id)).toContain(coupon.id);
    expect((await p.marketing.listCoupons('used')).coupons).toEqual([]);
    const held = p.coupons.heldByTemplate(mine).get(template) ?? 0;
    const after = (await p.marketing.listCentre()).templates.find((t) => t.id === template)!;
    expect(p.coupons.templateView({ terms: after, held }, Date.now())).toMatchObject({ status: 'claimed', action: '已领取' });
    const view = p.coupons.byTab(mine, Date.now()).available.find((c) => c.id === coupon.id)!;
    expect(view).toMatchObject({ rule: expectedRule(), usable: true, forOrdering: true });
  });

  it('refuses a template that does not exist, in Chinese', async () => {
    const p = await customer();
    const err = await p.marketing.claim('00000000-0000-0000-0000-000000000000', p.client.newIdempotencyKey()).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, code: 'COUPON_TEMPLATE_NOT_FOUND', message: '优惠券不存在或已下架' });
  });

  it('quotes with the coupon, places the order with it at the quote’s total, and shows the discount', async () => {
    const p = await customer();
    const coupon = await p.marketing.claim(template, p.client.newIdempotencyKey());
    const { BEST } = p.discounts;
    const picked = { kind: 'coupon' as const, id: coupon.id };

    // One unit is below the threshold: offered, greyed, with the reason.
    const one = await p.ordering.quote(await cartOf(p, 1), fulfilment);
    expect(one.discounts).toEqual([]);
    expect(one.amounts.discount_fen).toBe(0);
    const greyed = p.discounts.couponPicker(one, BEST);
    expect(greyed).toMatchObject({ shown: true, summary: '暂无可用优惠券' });
    expect(greyed.options.find((o) => o.id === coupon.id)).toMatchObject({ usable: false, problem: '未达到使用门槛' });

    // Two units reach it: the server takes it off as the best coupon.
    const cart = await cartOf(p, 2);
    const best = await p.ordering.quote(cart, fulfilment);
    expect(best.discounts).toEqual([{ kind: 'COUPON', coupon_id: coupon.id, label_zh: TITLE, label_en: TITLE, amount_fen: offFen }]);
    expect(best.amounts.discount_fen).toBe(offFen);
    expect(best.amounts.total_fen).toBe(best.amounts.items_fen + best.amounts.packaging_fee_fen - offFen);
    expect(p.discounts.couponPicker(best, BEST)).toMatchObject({ summary: TITLE, amount: `-¥${(offFen / 100).toFixed(2)}`, problem: '' });

    // Picked by hand: the same; left off when asked.
    const chosen = await p.ordering.quote(cart, fulfilment, picked);
    expect(chosen.amounts.total_fen).toBe(best.amounts.total_fen);
    expect(chosen.coupon_problem ?? null).toBeNull();
    const none = await p.ordering.quote(cart, fulfilment, { kind: 'none' });
    expect(none.discounts).toEqual([]);
    expect(none.amounts.total_fen).toBe(best.amounts.total_fen + offFen);

    // A total that leaves the discount out is refused, and holds nothing.
    const stale = await p.ordering
      .placeOrder({
        cart,
        fulfilment,
        remark: '',
        expectedTotalFen: none.amounts.total_fen,
        idempotencyKey: p.client.newIdempotencyKey(),
        coupon: picked,
      })
      .catch((e: unknown) => e);
    expect(stale).toMatchObject({ code: 'PRICE_CHANGED' });
    expect((await p.marketing.listCoupons('available')).coupons.map((c) => c.id)).toContain(coupon.id);

    const order = await p.ordering.placeOrder({
      cart,
      fulfilment,
      remark: '',
      expectedTotalFen: chosen.amounts.total_fen,
      idempotencyKey: p.client.newIdempotencyKey(),
      coupon: picked,
    });
    expect(order.amounts).toMatchObject({ discount_fen: offFen, total_fen: chosen.amounts.total_fen });
    expect(order.discounts).toEqual([{ kind: 'COUPON', coupon_id: coupon.id, label_zh: TITLE, label_en: TITLE, amount_fen: offFen }]);
    const shown = p.orderView.orderView(await p.ordering.getOrder(order.id));
    expect(shown.discounts).toEqual([{ key: coupon.id, label: `优惠券 ${TITLE}`, amount: `-¥${(offFen / 100).toFixed(2)}` }]);

    // The unpaid order holds the coupon: under 可用, said to be in use.
    const held = (await p.marketing.listAllCoupons()).find((c) => c.id === coupon.id)!;
    expect(held).toMatchObject({ state: 'locked', order_id: order.id });
    expect(p.coupons.couponView(held, Date.now())).toMatchObject({ stateText: '待支付订单使用中', usable: false });
    // Another order cannot take it meanwhile.
    const twice = await p.ordering
      .placeOrder({
        cart,
        fulfilment,
        remark: '',
        expectedTotalFen: chosen.amounts.total_fen,
        idempotencyKey: p.client.newIdempotencyKey(),
        coupon: picked,
      })
      .catch((e: unknown) => e);
    expect(twice).toMatchObject({ code: 'COUPON_UNAVAILABLE', message: '所选优惠券已被使用或不可用，请重新选择' });
    const gone = await p.ordering.quote(cart, fulfilment, picked);
    expect(p.discounts.couponPicker(gone, picked).problem).toBe('所选优惠券已被使用或已过期，请重新选择');

    // Cancelled: the coupon is the customer's again. Ordering tells marketing before it answers
    // (the owed step is tried at once), so the coupon is back when the cancel returns.
    await p.ordering.cancelOrder(order.id);
    const state = (await p.marketing.listAllCoupons()).find((c) => c.id === coupon.id)!.state;
    expect(state).toBe('available');
  });

  it('shows nothing new at checkout when the shop has marketing off', async () => {
    const p = await customer();
    await p.marketing.claim(template, p.client.newIdempotencyKey());
    shop.disable('marketing');
    try {
      const q = await p.ordering.quote(await cartOf(p, 2), fulfilment);
      expect(q.coupons).toEqual([]);
      expect(q.discounts).toEqual([]);
      expect(q.amounts.discount_fen).toBe(0);
      expect(p.discounts.couponPicker(q, p.discounts.BEST).shown).toBe(false);
      await expect(p.marketing.listCentre()).rejects.toMatchObject({ code: 'MODULE_DISABLED', message: '该功能暂未开放' });
    } finally {
      shop.enable('marketing');
    }
  });
});

describe('the member card against the real BFF', () => {
  // Levels by spend: the first within reach of one order, the second far beyond it.
  const SILVER = { name_zh: '合同测试银卡', threshold: 100, discount_percent: 5, perks: '合同测试权益' };
  const GOLD = { name_zh: '合同测试金卡', threshold: 10_000_000, discount_percent: 10, perks: '' };
  const GIFT = '合同测试赠送';

  it('earns points on an order paid at the counter, shows them on the card and in the history, and takes them back on a refund', async () => {
    shop.configure('marketing', { levels_by: 'spend', levels: [SILVER, GOLD] });
    try {
      const p = await customer();
      // The demo shop's default: a point for every yuan.
      const config = p.marketing.marketingConfig(p.boot.config());
      expect(config).toEqual({ pointsPerYuan: 1, levelsBy: 'spend' });
      const fresh = await p.marketing.getMember();
      expect(fresh).toMatchObject({ points: 0, lifetime_points: 0, lifetime_spend_fen: 0, next_level: { name_zh: SILVER.name_zh } });
      expect(fresh.level ?? null).toBeNull();
      expect(p.members.cardView(fresh, config)).toMatchObject({
        level: '普通会员',
        points: 0,
        discount: '',
        progress: '再消费1元升级为合同测试银卡',
        earn: '每消费1元得1积分',
      });
      expect((await p.marketing.listPoints()).entries).toEqual([]);

      const cart = await cartOf(p, 2);
      const quote = await p.ordering.quote(cart, fulfilment);
      const order = await p.ordering.placeOrder({
        cart,
        fulfilment,
        remark: '',
        expectedTotalFen: quote.amounts.total_fen,
        idempotencyKey: p.client.newIdempotencyKey(),
      });
      const total = order.amounts.total_fen;
      const earned = Math.floor(total / 100);
      expect(earned).toBeGreaterThan(0);
      expect((await p.ordering.payOrder(order.id, 'counter')).outcome).toBe('counter');
      // Only the till's confirmation makes it paid: nothing earned yet.
      expect((await p.marketing.getMember()).points).toBe(0);

      shop.confirmCounterPayment(order.id);
      // Points are earned before the confirmation answers (ordering tells marketing at once).
      const member = await p.marketing.getMember();
      expect(member).toMatchObject({
        points: earned,
        lifetime_points: earned,
        lifetime_spend_fen: total,
        level: { name_zh: SILVER.name_zh, threshold: 100, discount_percent: 5, perks: SILVER.perks },
        next_level: { name_zh: GOLD.name_zh, threshold: GOLD.threshold },
      });
      expect(p.members.cardView(member, config)).toMatchObject({
        level: '合同测试银卡',
        points: earned,
        discount: '下单享9.5折',
        perks: '合同测试权益',
        progress: `再消费${(GOLD.threshold - total) / 100}元升级为合同测试金卡`,
      });
      const paid = (await p.marketing.listPoints()).entries;
      expect(paid).toEqual([
        { delta: earned, balance_after: earned, kind: 'ORDER_PAID', order_id: order.id, reason: '', create_time: expect.any(String) },
      ]);
      expect(p.members.historyView(paid).map((e) => e.text)).toEqual([`订单支付 +${earned}`]);

      // The shop hands out 50 with a reason.
      shop.adjustPoints(p.auth.currentUser()!.id, 50, GIFT);
      expect((await p.marketing.getMember()).points).toBe(earned + 50);

      // Cancelled after paying: refunded at the counter, and the points it earned go with it.
      await p.ordering.cancelOrder(order.id);
      const history = await p.marketing.listPoints();
      expect(p.members.historyView(history.entries).map((e) => [e.text, e.balance])).toEqual([
        [`订单退款 -${earned}`, '余额 50'],
        [`门店调整 +50 · ${GIFT}`, `余额 ${earned + 50}`],
        [`订单支付 +${earned}`, `余额 ${earned}`],
      ]);
      expect(history.next_page_token ?? null).toBeNull();
      const after = await p.marketing.getMember();
      expect(after).toMatchObject({ points: 50, lifetime_spend_fen: 0, next_level: { name_zh: SILVER.name_zh } });
      expect(p.members.cardView(after, config).level).toBe('普通会员');
    } finally {
      shop.configure('marketing', { levels: [] });
    }
  });
});
