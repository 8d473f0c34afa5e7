// Coupons against the real BFF, through the services the pages use: the demo shop switches
// marketing on and its admin creates a claimable "满减" template for the checkout of ordering
// (over gRPC); a customer finds it in the coupon centre, claims it once per key and is refused a
// second with the limit in Chinese; the checkout's quote greys it out below its threshold, takes
// it off above (as the best coupon, or picked), and leaves it off when asked; the order placed
// with it and the quote's total carries the discount, holds the coupon, and gives it back when
// cancelled; with marketing off the quote has no coupons and the checkout shows nothing new.
// The member card: an order paid at the counter (staff confirming it) earns the demo shop's point
// a yuan and reaches a level by spend; the card and the points history say so, with the shop's
// adjustment and the points a refund takes back. Paying with points: the shop grants points, the
// quote offers what the demo shop's 100 points a yuan within half the basket pay, the order pays
// with them at the quote's total (the POINTS line, the balance, the history), an order whose
// points went elsewhere meanwhile is refused as PRICE_CHANGED and its points come back, and a
// cancelled order gives them back. Promotions: a time-limited discount and a full reduction made
// over gRPC are listed by GET /api/v1/marketing/promotions, and the quote takes off to the fen
// what the menu's rule (services/promotions) shows.
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

describe('paying with points against the real BFF', () => {
  const GRANT = 1_234;
  const REASON = '合同测试积分';

  it('quotes what the points pay, places the order paying with them, and gives them back when it is cancelled', async () => {
    const p = await customer();
    const userId = p.auth.currentUser()!.id;
    const { BEST } = p.discounts;
    const cart = await cartOf(p, 2);

    // Nothing held yet: the shop takes points (100 a yuan) but these pay nothing.
    const empty = await p.ordering.quote(cart, fulfilment);
    expect(empty.points).toEqual({ balance: 0, usable_points: 0, amount_fen: 0, points_per_yuan: 100 });
    expect(p.discounts.pointsRow(empty, false)).toMatchObject({ text: '积分不足', usable: false });

    shop.adjustPoints(userId, GRANT, REASON);
    const off = await p.ordering.quote(cart, fulfilment);
    // Whole yuan, at most half of what is left after the other discounts, at most the balance.
    const left = off.amounts.items_fen - off.amounts.discount_fen;
    const yuan = Math.min(Math.floor(GRANT / 100), Math.floor(Math.floor(left / 2) / 100));
    expect(yuan).toBeGreaterThan(0);
    const points = yuan * 100;
    expect(off.points).toEqual({ balance: GRANT, usable_points: points, amount_fen: yuan * 100, points_per_yuan: 100 });
    expect(off.discounts.some((d) => d.kind === 'POINTS')).toBe(false);
    expect(p.discounts.pointsRow(off, false)).toEqual({
      text: `可用 ${points} 积分抵 ¥${yuan}`,
      balance: `共 ${GRANT} 积分`,
      usable: true,
      on: false,
    });

    const on = await p.ordering.quote(cart, fulfilment, BEST, true);
    const line = { kind: 'POINTS', label_zh: `积分抵扣（${points} 积分）`, label_en: `${points} points`, amount_fen: yuan * 100 };
    expect(on.discounts.at(-1)).toEqual(line);
    expect(on.amounts.discount_fen).toBe(off.amounts.discount_fen + yuan * 100);
    expect(on.amounts.total_fen).toBe(off.amounts.total_fen - yuan * 100);
    expect(p.discounts.pointsRow(on, true)).toMatchObject({ usable: true, on: true });
    expect(p.discounts.discountLines(on.discounts).at(-1)).toEqual({
      key: `POINTS-${on.discounts.length - 1}`,
      label: `积分抵扣（${points} 积分）`,
      amount: `-¥${yuan}.00`,
    });

    const order = await p.ordering.placeOrder({
      cart,
      fulfilment,
      remark: '',
      expectedTotalFen: on.amounts.total_fen,
      idempotencyKey: p.client.newIdempotencyKey(),
      usePoints: true,
    });
    expect(order.amounts).toMatchObject({ total_fen: on.amounts.total_fen, discount_fen: on.amounts.discount_fen });
    expect(order.discounts.at(-1)).toEqual(line);
    expect(p.orderView.orderView(await p.ordering.getOrder(order.id)).discounts.at(-1)).toMatchObject({
      label: `积分抵扣（${points} 积分）`,
      amount: `-¥${yuan}.00`,
    });
    // Spent when the order is placed (unpaid still): the balance and the history say so.
    expect((await p.marketing.getMember()).points).toBe(GRANT - points);
    const spent = (await p.marketing.listPoints()).entries;
    expect(spent[0]).toMatchObject({ kind: 'ORDER_SPENT', delta: -points, balance_after: GRANT - points, order_id: order.id });
    expect(p.members.historyView(spent).map((e) => e.text)).toEqual([`积分抵扣 -${points}`, `门店调整 +${GRANT} · ${REASON}`]);

    // Called off: the points come back before the cancel answers.
    await p.ordering.cancelOrder(order.id);
    expect((await p.marketing.getMember()).points).toBe(GRANT);
    const back = (await p.marketing.listPoints()).entries[0]!;
    expect(back).toMatchObject({ kind: 'ORDER_RETURNED', delta: points, balance_after: GRANT, order_id: order.id });
    expect(p.members.entryView(back, '0').text).toBe(`积分退回 +${points}`);
  });

  it('refuses an order whose points were spent elsewhere after the quote, and the new quote says what is left', async () => {
    const p = await customer();
    const userId = p.auth.currentUser()!.id;
    const { BEST } = p.discounts;
    const cart = await cartOf(p, 2);
    shop.adjustPoints(userId, GRANT, REASON);
    const shown = await p.ordering.quote(cart, fulfilment, BEST, true);
    const before = p.discounts.pointsOff(shown);
    expect(before).toBeGreaterThan(100);

    // Meanwhile all but a yuan's worth goes (spent at the counter, say).
    shop.adjustPoints(userId, -(GRANT - 100), '合同测试扣减');
    const refused = await p.ordering
      .placeOrder({
        cart,
        fulfilment,
        remark: '',
        expectedTotalFen: shown.amounts.total_fen,
        idempotencyKey: p.client.newIdempotencyKey(),
        usePoints: true,
      })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'PRICE_CHANGED', message: '价格有变动，请确认后重新提交' });
    // The refused order keeps nothing: what it took is back before the refusal answers.
    expect((await p.marketing.getMember()).points).toBe(100);

    const again = await p.ordering.quote(cart, fulfilment, BEST, true);
    expect(p.discounts.pointsOff(again)).toBe(100);
    expect(p.discounts.pointsRow(again, true)).toMatchObject({ text: '可用 100 积分抵 ¥1', on: true });
    const order = await p.ordering.placeOrder({
      cart,
      fulfilment,
      remark: '',
      expectedTotalFen: again.amounts.total_fen,
      idempotencyKey: p.client.newIdempotencyKey(),
      usePoints: true,
    });
    expect(order.amounts.total_fen).toBe(again.amounts.total_fen);
    expect((await p.marketing.getMember()).points).toBe(0);
    await p.ordering.cancelOrder(order.id);
  });
});

describe('promotions against the real BFF', () => {
  const PERCENT = '合同测试限时折扣';
  const TIERS = '合同测试满减';

  it('lists the promotions made over gRPC, and the quote takes off what the menu’s rule shows', async () => {
    const p = await customer();
    const menu = await p.catalog.getMenu();
    const section = menu.sections.find((s) => s.products.some((x) => x.skus.some((k) => k.available)))!;
    const product = section.products.find((x) => x.skus.some((k) => k.available))!;
    const sku = product.skus.find((k) => k.available)!;
    const now = Date.now();
    const window = { start_time: new Date(now - 60_000).toISOString(), end_time: new Date(now + 86_400_000).toISOString() };
    // 15% off (rounded down per unit: a price that does not divide shows it) on this product
    // alone, so nothing else of the shop changes; and a full reduction over it, reached at three
    // units at the promotional price.
    const percentId = shop.createPromotion({
      title_zh: PERCENT,
      title_en: 'Contract discount',
      kind: 'PROMOTION_KIND_PERCENT_OFF',
      percent_off: 15,
      products: [product.id],
      ...window,
    });
    const unit = sku.price_fen - Math.floor((sku.price_fen * 15) / 100);
    const tier = { threshold_fen: 3 * unit, amount_off_fen: Math.max(1, Math.floor(unit / 2)) };
    const tieredId = shop.createPromotion({
      title_zh: TIERS,
      kind: 'PROMOTION_KIND_TIERED',
      tiers: [tier],
      categories: [section.id],
      ...window,
    });
    try {
      await p.boot.refresh(true);
      const listed = p.promotions.running(await p.promotions.loadPromotions(p.boot.config()));
      const percent = listed.find((x) => x.id === percentId)!;
      expect(percent).toEqual({
        id: percentId,
        title_zh: PERCENT,
        title_en: 'Contract discount',
        kind: 'percent_off',
        tiers: [],
        percent_off: 15,
        product_ids: [product.id],
        category_ids: [],
        start_time: expect.any(String),
        end_time: expect.any(String),
      });
      expect(Date.parse(percent.end_time)).toBeGreaterThan(now);
      const tiered = listed.find((x) => x.id === tieredId)!;
      // No English title given: the Chinese one.
      expect(tiered).toMatchObject({ kind: 'tiered', title_en: TIERS, tiers: [tier], product_ids: [], category_ids: [section.id] });
      const ours = [percent, tiered];

      // What the menu shows for the product, by the client's rule.
      const shown = p.promotions.unitPrice(ours, product.id, section.id, sku.price_fen);
      expect(shown).toMatchObject({ fen: unit, listFen: sku.price_fen, promotion: { id: percentId } });
      expect(p.promotions.priceView(shown.fen, shown.listFen, p.promotions.tag(percent))).toEqual({
        price: `¥${(unit / 100).toFixed(2)}`,
        listPrice: `¥${(sku.price_fen / 100).toFixed(2)}`,
        tag: '8.5折',
      });
      const lines = (n: number) => [{ productId: product.id, categoryId: section.id, unitFen: sku.price_fen, quantity: n }];

      // Two units: the unit discount on each, as the menu's rule has it; the tier not reached,
      // and the cart's hint names what more reaches it.
      const two = await p.ordering.quote(p.cart.add(p.cart.EMPTY, product, sku, 2), fulfilment, { kind: 'none' });
      const promo = two.discounts.filter((d) => d.kind === 'PROMOTION');
      expect(promo).toEqual([
        { kind: 'PROMOTION', label_zh: `${PERCENT}·85折`, label_en: 'Contract discount · 15% off', amount_fen: 2 * (sku.price_fen - unit) },
      ]);
      expect(two.items[0]!.unit_price_fen).toBe(sku.price_fen);
      expect(two.amounts.items_fen - two.amounts.discount_fen).toBe(p.promotions.subtotal(ours, lines(2)));
      expect(p.promotions.nextTier(ours, lines(2))).toMatchObject({ gapFen: unit, offFen: tier.amount_off_fen });
      expect(p.discounts.discountLines(two.discounts)[0]!.label).toBe(`促销 ${PERCENT}·85折`);

      // Three reach it: the quote takes the tier off, counted after the unit discounts.
      const three = await p.ordering.quote(p.cart.add(p.cart.EMPTY, product, sku, 3), fulfilment, { kind: 'none' });
      expect(three.discounts.filter((d) => d.kind === 'PROMOTION').map((d) => d.amount_fen)).toEqual([
        3 * (sku.price_fen - unit),
        p.promotions.tieredOff(ours, lines(3)),
      ]);
      expect(p.promotions.tieredOff(ours, lines(3))).toBe(tier.amount_off_fen);
      expect(p.promotions.nextTier(ours, lines(3))).toBeUndefined();
      // The tier reads on the quote as the menu's banner writes it.
      expect(three.discounts[1]!.label_zh).toBe(`${TIERS}·${p.promotions.tierRules([tier])}`);
    } finally {
      shop.stopPromotion(percentId);
      shop.stopPromotion(tieredId);
    }
    // Stopped: no longer listed, and the quote takes nothing off.
    const after = await p.promotions.loadPromotions(p.boot.config());
    expect(after.map((x) => x.id)).not.toContain(percentId);
    expect(after.map((x) => x.id)).not.toContain(tieredId);
    const stopped = await p.ordering.quote(p.cart.add(p.cart.EMPTY, product, sku, 3), fulfilment, { kind: 'none' });
    expect(stopped.discounts.filter((d) => d.kind === 'PROMOTION')).toEqual([]);
  });
});
