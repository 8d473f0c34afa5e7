// Checkout, payment and orders against a fake ordering BFF: the quote replaces the estimate,
// placing an order sends one idempotency key per checkout, WeChat Pay gets the prepay parameters,
// the order page shows status and cancels. With coupons (a shop with marketing on): the quote's
// discount and coupon, the picker with unusable coupons greyed and "不使用优惠券", a new quote for a
// new choice, the order placed with the same choice and total, the discount on the order. Paying
// with points: the 积分抵扣 switch asks for a new quote with use_points, the order carries the
// same and the quote's total, and an order refused because the points went elsewhere is quoted
// again and said so. Every kind of discount line (promotion, member level, coupon, points) in the
// summary and on the order; the next full-reduction tier as a hint.
import { bootConfig, flush, installWx, marketingModule, signIn, type FakeRequest, type FakeResponse } from '../support/wx';
import { render, resetCore, tap, text, texts } from '../support/simulate';

const APPID = 'wxshop00000001';
const user = { id: 'u1', display_name: '顾客', nickname: '小明', avatar_url: '', phone: '' };
const line = {
  product_id: 'p-water',
  sku_id: 's-water',
  name: '矿泉水',
  spec_summary: '',
  unit_price_fen: 300,
  quantity: 2,
  line_total_fen: 600,
  available: true,
};

function order(status: string, over: Record<string, unknown> = {}) {
  return {
    id: 'o1',
    order_number: '20261124-0042',
    status,
    discounts: [],
    items: [line],
    amounts: { items_fen: 600, packaging_fee_fen: 100, total_fen: 700, discount_fen: 0 },
    fulfilment: { mode: 'dine_in', table: '8', address: null },
    remark: '',
    payment_method: '',
    cancel_reason: '',
    expire_time: '2026-11-24T05:20:00Z',
    pay_time: null,
    create_time: '2026-11-24T05:05:00Z',
    refunded_fen: 0,
    ...over,
  };
}

function setup(
  routes: Record<string, (req: FakeRequest) => FakeResponse>,
  opts: { payment?: 'paid' | 'cancel' | 'fail'; address?: { fail: string }; marketing?: boolean } = {},
) {
  const w = installWx({
    appid: APPID,
    payment: opts.payment,
    address: opts.address,
    handler: (req) => {
      const r = routes[`${req.method} ${req.path}`];
      return r ? r(req) : { status: 304 };
    },
  });
  resetCore();
  w.storage.set(`mm:${APPID}:boot`, {
    config: bootConfig({
      modules: [
        ...bootConfig().modules.map((m: { id: string; config: object }) =>
          m.id === 'ordering' ? { ...m, config: { ...m.config, payment_methods: ['wechat_pay', 'counter'] } } : m,
        ),
        ...(opts.marketing ? [marketingModule()] : []),
      ],
    }),
    etag: 'e',
    fetchedAt: Date.now(),
  });
  signIn(w, APPID, user);
  w.storage.set(`mm:${APPID}:ordering.table`, '8');
  w.storage.set(`mm:${APPID}:ordering.cart`, {
    lines: [{ skuId: 's-water', productId: 'p-water', name: '矿泉水', specs: '', unitFen: 250, quantity: 2 }],
  });
  return w;
}

const quote = () => ({
  status: 200,
  body: {
    items: [line],
    amounts: { items_fen: 600, packaging_fee_fen: 100, total_fen: 700, discount_fen: 0 },
    orderable: true,
    problems: [],
    min_order_fen: 0,
    discounts: [],
    coupons: [],
  },
});
const prepay = { timeStamp: '1700000000', nonceStr: 'n', package: 'prepay_id=wx1', signType: 'RSA', paySign: 'sig' };

async function openCart() {
  const page = render('packages/ordering/pages/cart/index');
  await page.instance.onLoad({});
  await flush(20);
  return page;
}

describe('checkout', () => {
  it('shows the server quote, places the order once and pays with WeChat Pay', async () => {
    const keys: string[] = [];
    const w = setup({
      'POST /api/v1/orders/quote': quote,
      'POST /api/v1/orders': (req) => {
        keys.push(req.header['idempotency-key']!);
        return keys.length === 1 ? ('fail' as never) : { status: 201, body: order('pending_payment') };
      },
      'POST /api/v1/orders/o1/pay': (req) => {
        expect(req.data).toEqual({ method: 'wechat_pay' });
        return { status: 200, body: { order: order('pending_payment'), wechat_pay: prepay } };
      },
      'POST /api/v1/orders/o1/payment/refresh': () => ({ status: 200, body: order('paid') }),
    });
    const page = await openCart();
    // The server's price (¥3.00), not the stored estimate (¥2.50).
    expect(text(page, '.cart__items-total')).toBe('¥6.00');
    expect(text(page, '.cart__packaging')).toBe('¥1.00');
    expect(text(page, '.cart__total')).toBe('¥7.00');
    // No coupons, no discounts (the shop has no marketing): nothing of them shows.
    expect(page.querySelector('.cart__coupon')).toBeFalsy();
    expect(page.querySelector('.cart__discount')).toBeFalsy();
    expect(page.querySelector('.cart__saved')).toBeFalsy();
    expect(page.querySelector('.cart__points')).toBeFalsy();
    expect(page.querySelector('.cart__tier-hint')).toBeFalsy();
    const quoteReq = w.requests.find((r) => r.path === '/api/v1/orders/quote')!;
    expect(quoteReq.data).toEqual({
      items: [{ product_id: 'p-water', sku_id: 's-water', quantity: 2 }],
      fulfilment: { mode: 'dine_in', table: '8', address: null },
    });

    await tap(page, '.cart__submit');
    await flush(1500);
    // The first attempt got no answer and was retried with the same key.
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    const placed = w.requests.find((r) => r.path === '/api/v1/orders' && r.method === 'POST')!;
    expect(placed.data).toMatchObject({ expected_total_fen: 700, remark: '' });
    expect(w.calls.find((c) => c.api === 'requestPayment')!.args).toMatchObject(prepay);
    expect(w.toasts()).toContain('支付成功');
    expect(w.navigations()).toEqual(['redirectTo /packages/ordering/pages/order/index?id=o1']);
    expect((w.storage.get(`mm:${APPID}:ordering.cart`) as { lines: unknown[] }).lines).toEqual([]);
  });

  it('sends a customer without a phone to bind one when the shop asks for it, keeping the cart', async () => {
    const w = setup({
      'POST /api/v1/orders/quote': quote,
      'POST /api/v1/orders': () => ({ status: 400, body: { code: 'PHONE_REQUIRED', message: 'bind a phone number before ordering' } }),
    });
    const page = await openCart();
    await tap(page, '.cart__submit');
    await flush(50);
    const modal = w.calls.find((c) => c.api === 'showModal')!;
    expect(modal.args).toMatchObject({ content: '本店下单前需绑定手机号，绑定后即可提交订单', confirmText: '去绑定' });
    expect(w.navigations()).toEqual(['navigateTo /packages/identity/pages/profile/index']);
    expect((w.storage.get(`mm:${APPID}:ordering.cart`) as { lines: unknown[] }).lines).toHaveLength(1);
    expect(w.toasts()).toEqual([]);
  });

  it('says why a basket cannot be ordered', async () => {
    const w = setup({
      'POST /api/v1/orders/quote': () => ({
        status: 200,
        body: {
          items: [line],
          amounts: { items_fen: 600, packaging_fee_fen: 0, total_fen: 600 },
          orderable: false,
          problems: ['BELOW_MINIMUM'],
          min_order_fen: 2000,
        },
      }),
    });
    const page = await openCart();
    expect(texts(page, '.cart__problem')).toEqual(['未达起送金额 ¥20.00']);
    await tap(page, '.cart__submit');
    expect(w.toasts()).toContain('未达起送金额 ¥20.00');
    expect(w.requests.some((r) => r.path === '/api/v1/orders' && r.method === 'POST')).toBe(false);
  });

  it('asks for an address before a delivery order', async () => {
    const w = setup({ 'POST /api/v1/orders/quote': quote });
    const page = await openCart();
    await tap(page, '.cart__mode', 2);
    await flush(20);
    await tap(page, '.cart__submit');
    expect(w.toasts()).toContain('请选择收货地址');
    expect(w.requests.some((r) => r.path === '/api/v1/orders' && r.method === 'POST')).toBe(false);
  });

  it('takes the address WeChat gives, and says so when it cannot be had', async () => {
    const ok = setup({ 'POST /api/v1/orders/quote': quote });
    let page = await openCart();
    await tap(page, '.cart__mode', 2);
    await flush(20);
    await tap(page, '.cart__choose-address');
    await flush(20);
    expect(text(page, '.cart__address')).toContain('张三');
    expect(ok.toasts()).toEqual([]);

    // Cancelled: nothing to say. Permission refused: the way to grant it. Failed: said.
    for (const [fail, expectation] of [
      ['chooseAddress:fail cancel', 'silent'],
      ['chooseAddress:fail auth deny', 'modal'],
      ['chooseAddress:fail system error', 'toast'],
    ] as const) {
      const w = setup({ 'POST /api/v1/orders/quote': quote }, { address: { fail } });
      page = await openCart();
      await tap(page, '.cart__mode', 2);
      await flush(20);
      await tap(page, '.cart__choose-address');
      await flush(20);
      const modals = w.calls.filter((c) => c.api === 'showModal').map((c) => c.args.title);
      expect({ fail, modals, toasts: w.toasts() }).toEqual({
        fail,
        modals: expectation === 'modal' ? ['需要你的通讯地址'] : [],
        toasts: expectation === 'toast' ? ['暂时无法获取收货地址，请稍后重试'] : [],
      });
      if (expectation === 'modal') expect(w.calls.some((c) => c.api === 'openSetting')).toBe(true);
    }
  });

  it('opens the order when the customer closes the payment sheet', async () => {
    const w = setup(
      {
        'POST /api/v1/orders/quote': quote,
        'POST /api/v1/orders': () => ({ status: 201, body: order('pending_payment') }),
        'POST /api/v1/orders/o1/pay': () => ({ status: 200, body: { order: order('pending_payment'), wechat_pay: prepay } }),
      },
      { payment: 'cancel' },
    );
    const page = await openCart();
    await tap(page, '.cart__submit');
    await flush(50);
    expect(w.toasts()).toContain('已取消支付，可在订单中继续支付');
    expect(w.navigations()).toEqual(['redirectTo /packages/ordering/pages/order/index?id=o1']);
  });
});

describe('order page', () => {
  it('shows an unpaid order and cancels it', async () => {
    let status = 'pending_payment';
    const w = setup({
      'GET /api/v1/orders/o1': () => ({ status: 200, body: order(status) }),
      'POST /api/v1/orders/o1/cancel': () => {
        status = 'cancelled';
        return { status: 200, body: order('cancelled', { cancel_reason: 'customer' }) };
      },
    });
    const page = render('packages/ordering/pages/order/index');
    await page.instance.onLoad({ id: 'o1' });
    await flush(20);
    expect(text(page, '.order__status')).toBe('待支付');
    expect(text(page, '.order__number')).toBe('20261124-0042');
    expect(text(page, '.order__table')).toBe('8');
    expect(text(page, '.order__total')).toBe('¥7.00');
    expect(texts(page, '.order__pay')).toEqual(['去支付', '到店支付']);
    expect(page.querySelector('.order__discount')).toBeFalsy();
    await tap(page, '.order__cancel');
    await flush(20);
    expect(text(page, '.order__status')).toBe('已取消');
    expect(text(page, '.order__reason')).toBe('您已取消');
    expect(page.querySelector('.order__pay')).toBeFalsy();
    expect(w.toasts()).toContain('订单已取消');
    page.detach();
  });

  it('pays at the counter', async () => {
    const w = setup({
      'GET /api/v1/orders/o1': () => ({ status: 200, body: order('pending_payment') }),
      'POST /api/v1/orders/o1/pay': (req) => {
        expect(req.data).toEqual({ method: 'counter' });
        return { status: 200, body: { order: order('pending_payment', { payment_method: 'counter' }), wechat_pay: null } };
      },
    });
    const page = render('packages/ordering/pages/order/index');
    await page.instance.onLoad({ id: 'o1' });
    await flush(20);
    await tap(page, '.order__pay', 1);
    await flush(20);
    expect(w.calls.some((c) => c.api === 'requestPayment')).toBe(false);
    page.detach();
  });
});

describe('coupons at checkout', () => {
  // Two waters (¥6) and a ¥1 packaging fee; the customer holds 全场8折 (¥1.20 off, the best),
  // 满5减1 (¥1 off) and 满100减20 (below its threshold).
  const discount = (coupon_id: string, label_zh: string, amount_fen: number) => ({
    kind: 'COUPON',
    coupon_id,
    label_zh,
    label_en: label_zh,
    amount_fen,
  });
  const options = [
    { coupon_id: 'c-pct', title_zh: '全场8折', title_en: '20% off', amount_fen: 120, problem: null },
    { coupon_id: 'c-1', title_zh: '满5减1', title_en: '¥1 off', amount_fen: 100, problem: null },
    { coupon_id: 'c-big', title_zh: '满100减20', title_en: '¥20 off', amount_fen: 0, problem: 'BELOW_THRESHOLD' },
  ];
  const taken = new Set<string>();

  /** The quote for the choice the body carries, as the server prices it. */
  function couponQuote(req: FakeRequest): FakeResponse {
    const body = req.data as { coupon_id?: string; no_coupon?: boolean };
    const held = options.filter((o) => !taken.has(o.coupon_id));
    const picked = body.no_coupon ? undefined : held.find((o) => o.coupon_id === (body.coupon_id ?? 'c-pct'));
    const off = picked && !picked.problem ? picked.amount_fen : 0;
    return {
      status: 200,
      body: {
        items: [line],
        amounts: { items_fen: 600, packaging_fee_fen: 100, total_fen: 700 - off, discount_fen: off },
        orderable: true,
        problems: [],
        min_order_fen: 0,
        discounts: off ? [discount(picked!.coupon_id, picked!.title_zh, off)] : [],
        coupons: held,
        coupon_problem: body.coupon_id && !picked ? 'COUPON_UNAVAILABLE' : null,
      },
    };
  }
  const quotes = (w: ReturnType<typeof setup>) => w.requests.filter((r) => r.path === '/api/v1/orders/quote').map((r) => r.data);
  const placed = (w: ReturnType<typeof setup>) => w.requests.filter((r) => r.path === '/api/v1/orders' && r.method === 'POST');

  beforeEach(() => taken.clear());

  it('takes off the best coupon, shows the picker, and orders with the coupon picked at its total', async () => {
    const w = setup({
      'POST /api/v1/orders/quote': couponQuote,
      'POST /api/v1/orders': () => ({ status: 201, body: order('pending_payment') }),
      'POST /api/v1/orders/o1/pay': () => ({ status: 200, body: { order: order('pending_payment'), wechat_pay: prepay } }),
      'POST /api/v1/orders/o1/payment/refresh': () => ({ status: 200, body: order('paid') }),
    });
    const page = await openCart();
    // Nothing picked: the server chose the best coupon.
    expect(quotes(w)[0]).not.toHaveProperty('coupon_id');
    expect(quotes(w)[0]).not.toHaveProperty('no_coupon');
    expect(texts(page, '.cart__discount-label')).toEqual(['优惠券 全场8折']);
    expect(texts(page, '.cart__discount-amount')).toEqual(['-¥1.20']);
    expect(text(page, '.cart__coupon-summary')).toBe('全场8折');
    expect(text(page, '.cart__total')).toBe('¥5.80');
    expect(text(page, '.cart__saved')).toBe('已优惠 ¥1.20');

    await tap(page, '.cart__coupon');
    expect(texts(page, '.cart__option-title')).toEqual(['全场8折', '满5减1', '满100减20', '不使用优惠券']);
    expect(texts(page, '.cart__option-amount')).toEqual(['-¥1.20', '-¥1.00']);
    expect(texts(page, '.cart__option--off .cart__option-title')).toEqual(['满100减20']);
    expect(texts(page, '.cart__option-problem')).toEqual(['未达到使用门槛']);
    expect(texts(page, '.cart__option--on .cart__option-title')).toEqual(['全场8折']);
    // An unusable coupon says why and changes nothing.
    await tap(page, '.cart__option', 2);
    expect(w.toasts()).toEqual(['未达到使用门槛']);
    expect(quotes(w)).toHaveLength(1);

    await tap(page, '.cart__option', 1);
    await flush(20);
    expect(page.querySelector('.cart__sheet')).toBeFalsy();
    expect(quotes(w)[1]).toMatchObject({ coupon_id: 'c-1' });
    expect(text(page, '.cart__coupon-summary')).toBe('满5减1');
    expect(texts(page, '.cart__discount-label')).toEqual(['优惠券 满5减1']);
    expect(text(page, '.cart__total')).toBe('¥6.00');

    await tap(page, '.cart__submit');
    await flush(50);
    expect(placed(w)).toHaveLength(1);
    expect(placed(w)[0]!.data).toMatchObject({ coupon_id: 'c-1', expected_total_fen: 600 });
    expect(placed(w)[0]!.data).not.toHaveProperty('no_coupon');
    expect(w.navigations()).toEqual(['redirectTo /packages/ordering/pages/order/index?id=o1']);
  });

  it('orders without a coupon when the customer says so', async () => {
    const w = setup({
      'POST /api/v1/orders/quote': couponQuote,
      'POST /api/v1/orders': () => ({ status: 201, body: order('pending_payment') }),
      'POST /api/v1/orders/o1/pay': () => ({ status: 200, body: { order: order('pending_payment'), wechat_pay: prepay } }),
    });
    const page = await openCart();
    await tap(page, '.cart__coupon');
    await tap(page, '.cart__option-none');
    await flush(20);
    expect(quotes(w)[1]).toMatchObject({ no_coupon: true });
    expect(quotes(w)[1]).not.toHaveProperty('coupon_id');
    expect(text(page, '.cart__coupon-summary')).toBe('不使用优惠券');
    expect(page.querySelector('.cart__discount')).toBeFalsy();
    expect(page.querySelector('.cart__saved')).toBeFalsy();
    expect(text(page, '.cart__total')).toBe('¥7.00');
    await tap(page, '.cart__coupon');
    expect(texts(page, '.cart__option--on .cart__option-title')).toEqual(['不使用优惠券']);
    await tap(page, '.cart__mask');

    await tap(page, '.cart__submit');
    await flush(50);
    expect(placed(w)[0]!.data).toMatchObject({ no_coupon: true, expected_total_fen: 700 });
    expect(placed(w)[0]!.data).not.toHaveProperty('coupon_id');
  });

  it('asks for another coupon when the one picked was taken by another order', async () => {
    const w = setup({
      'POST /api/v1/orders/quote': couponQuote,
      'POST /api/v1/orders': (req) => {
        const body = req.data as { coupon_id?: string };
        if (body.coupon_id === 'c-1') {
          // Another order of this customer got it first.
          taken.add('c-1');
          return {
            status: 400,
            body: { code: 'COUPON_UNAVAILABLE', message: 'taken', details: { fields: [], metadata: { problem: 'COUPON_UNAVAILABLE' } } },
          };
        }
        return { status: 201, body: order('pending_payment') };
      },
      'POST /api/v1/orders/o1/pay': () => ({ status: 200, body: { order: order('pending_payment'), wechat_pay: prepay } }),
    });
    const page = await openCart();
    await tap(page, '.cart__coupon');
    await tap(page, '.cart__option', 1);
    await flush(20);
    await tap(page, '.cart__submit');
    await flush(50);
    expect(w.toasts()).toContain('所选优惠券已被使用或不可用，请重新选择');
    // A new quote with the same choice says the coupon is gone.
    expect(quotes(w).at(-1)).toMatchObject({ coupon_id: 'c-1' });
    expect(text(page, '.cart__coupon-problem')).toBe('所选优惠券已被使用或已过期，请重新选择');
    expect(text(page, '.cart__total')).toBe('¥7.00');

    // Ordering now would be refused again: the picker opens instead.
    await tap(page, '.cart__submit');
    expect(placed(w)).toHaveLength(1);
    expect(page.querySelector('.cart__sheet')).toBeTruthy();
    expect(texts(page, '.cart__option-title')).toEqual(['全场8折', '满100减20', '不使用优惠券']);
    await tap(page, '.cart__option', 0);
    await flush(20);
    expect(text(page, '.cart__coupon-problem')).toBe('');
    await tap(page, '.cart__submit');
    await flush(50);
    expect(placed(w)).toHaveLength(2);
    expect(placed(w)[1]!.data).toMatchObject({ coupon_id: 'c-pct', expected_total_fen: 580 });
    // Another body, another checkout: a new idempotency key.
    expect(placed(w)[1]!.header['idempotency-key']).not.toBe(placed(w)[0]!.header['idempotency-key']);
  });

  it('shows the discount on the order', async () => {
    setup({
      'GET /api/v1/orders/o1': () => ({
        status: 200,
        body: order('paid', {
          discounts: [discount('c-pct', '全场8折', 120)],
          amounts: { items_fen: 600, packaging_fee_fen: 100, total_fen: 580, discount_fen: 120 },
        }),
      }),
    });
    const page = render('packages/ordering/pages/order/index');
    await page.instance.onLoad({ id: 'o1' });
    await flush(20);
    expect(texts(page, '.order__discount-label')).toEqual(['优惠券 全场8折']);
    expect(texts(page, '.order__discount-amount')).toEqual(['-¥1.20']);
    expect(text(page, '.order__total')).toBe('¥5.80');
    page.detach();
  });
});

describe('points and every discount at checkout', () => {
  // Two waters (¥6) and ¥1 packaging; a promotion takes 20% off each water (¥1.20), the gold
  // level 5% of what is left (¥0.24); points pay whole yuan, at most half of the ¥4.56 left: ¥2,
  // 200 points (100 a yuan), while the customer holds 200 or more.
  const d = (kind: string, label_zh: string, amount_fen: number) => ({ kind, label_zh, label_en: label_zh, amount_fen });
  let balance = 1_234;

  function pointsQuote(req: FakeRequest): FakeResponse {
    const body = req.data as { use_points?: boolean };
    const discounts = [d('PROMOTION', '午市特惠·8折', 120), d('MEMBER_LEVEL', '金卡优惠 5%', 24)];
    const yuanOff = Math.min(Math.floor(balance / 100), Math.floor((600 - 144) / 2 / 100));
    if (body.use_points && yuanOff > 0) discounts.push(d('POINTS', `积分抵扣（${yuanOff * 100} 积分）`, yuanOff * 100));
    const off = discounts.reduce((n, x) => n + x.amount_fen, 0);
    return {
      status: 200,
      body: {
        items: [line],
        amounts: { items_fen: 600, packaging_fee_fen: 100, total_fen: 700 - off, discount_fen: off },
        orderable: true,
        problems: [],
        min_order_fen: 0,
        discounts,
        coupons: [],
        points: { balance, usable_points: yuanOff * 100, amount_fen: yuanOff * 100, points_per_yuan: 100 },
      },
    };
  }
  const quotes = (w: ReturnType<typeof setup>) => w.requests.filter((r) => r.path === '/api/v1/orders/quote').map((r) => r.data);
  const placed = (w: ReturnType<typeof setup>) => w.requests.filter((r) => r.path === '/api/v1/orders' && r.method === 'POST');
  const switchTo = async (page: any, value: boolean) => {
    page.querySelector('.cart__points-switch').dispatchEvent('change', { detail: { value } });
    await flush(20);
  };

  beforeEach(() => {
    balance = 1_234;
  });

  it('shows every discount line, pays with points when switched on, and orders the same way at the quote’s total', async () => {
    const w = setup({
      'POST /api/v1/orders/quote': pointsQuote,
      'POST /api/v1/orders': () => ({ status: 201, body: order('pending_payment') }),
      'POST /api/v1/orders/o1/pay': () => ({ status: 200, body: { order: order('pending_payment'), wechat_pay: prepay } }),
      'POST /api/v1/orders/o1/payment/refresh': () => ({ status: 200, body: order('paid') }),
    });
    const page = await openCart();
    // Off until the customer turns it on: the quote does not ask for points.
    expect(quotes(w)[0]).not.toHaveProperty('use_points');
    expect(texts(page, '.cart__discount-label')).toEqual(['促销 午市特惠·8折', '金卡优惠 5%']);
    expect(texts(page, '.cart__discount-amount')).toEqual(['-¥1.20', '-¥0.24']);
    expect(text(page, '.cart__points-text')).toBe('可用 200 积分抵 ¥2');
    expect(text(page, '.cart__points-balance')).toBe('共 1234 积分');
    expect(page.instance.data.points).toMatchObject({ usable: true, on: false });
    expect(text(page, '.cart__total')).toBe('¥5.56');

    await switchTo(page, true);
    expect(quotes(w)).toHaveLength(2);
    expect(quotes(w)[1]).toMatchObject({ use_points: true });
    expect(texts(page, '.cart__discount-label')).toEqual(['促销 午市特惠·8折', '金卡优惠 5%', '积分抵扣（200 积分）']);
    expect(texts(page, '.cart__discount-amount')).toEqual(['-¥1.20', '-¥0.24', '-¥2.00']);
    expect(page.instance.data.points).toMatchObject({ usable: true, on: true });
    expect(text(page, '.cart__total')).toBe('¥3.56');
    expect(text(page, '.cart__saved')).toBe('已优惠 ¥3.44');

    await tap(page, '.cart__submit');
    await flush(50);
    expect(placed(w)).toHaveLength(1);
    expect(placed(w)[0]!.data).toMatchObject({ use_points: true, expected_total_fen: 356 });
    expect(w.navigations()).toEqual(['redirectTo /packages/ordering/pages/order/index?id=o1']);
  });

  it('leaves points off again when switched off', async () => {
    const w = setup({
      'POST /api/v1/orders/quote': pointsQuote,
      'POST /api/v1/orders': () => ({ status: 201, body: order('pending_payment') }),
      'POST /api/v1/orders/o1/pay': () => ({ status: 200, body: { order: order('pending_payment'), wechat_pay: prepay } }),
    });
    const page = await openCart();
    await switchTo(page, true);
    await switchTo(page, false);
    expect(quotes(w)).toHaveLength(3);
    expect(quotes(w)[2]).not.toHaveProperty('use_points');
    expect(texts(page, '.cart__discount-label')).toEqual(['促销 午市特惠·8折', '金卡优惠 5%']);
    await tap(page, '.cart__submit');
    await flush(50);
    expect(placed(w)[0]!.data).toMatchObject({ expected_total_fen: 556 });
    expect(placed(w)[0]!.data).not.toHaveProperty('use_points');
  });

  it('says when the points are too few, and the switch cannot be turned on', async () => {
    balance = 80;
    const w = setup({ 'POST /api/v1/orders/quote': pointsQuote });
    const page = await openCart();
    expect(text(page, '.cart__points-text')).toBe('积分不足');
    expect(page.instance.data.points).toMatchObject({ usable: false, on: false });
    await switchTo(page, true);
    expect(quotes(w)).toHaveLength(1);
  });

  it('quotes again and says so when the points were spent elsewhere before the order', async () => {
    const w = setup({
      'POST /api/v1/orders/quote': pointsQuote,
      'POST /api/v1/orders': (req) => {
        if ((req.data as { expected_total_fen: number }).expected_total_fen === 356) {
          // Another order of this customer took 1,084 points meanwhile: 150 left pay ¥1.
          balance = 150;
          return { status: 409, body: { code: 'PRICE_CHANGED', message: 'the total changed' } };
        }
        return { status: 201, body: order('pending_payment') };
      },
      'POST /api/v1/orders/o1/pay': () => ({ status: 200, body: { order: order('pending_payment'), wechat_pay: prepay } }),
    });
    const page = await openCart();
    await switchTo(page, true);
    await tap(page, '.cart__submit');
    await flush(50);
    expect(w.toasts()).toEqual(['积分余额有变动，已重新计算，请确认后提交']);
    // The new quote, still with points: what the points left pay now.
    expect(quotes(w).at(-1)).toMatchObject({ use_points: true });
    expect(text(page, '.cart__points-text')).toBe('可用 100 积分抵 ¥1');
    expect(texts(page, '.cart__discount-label')).toContain('积分抵扣（100 积分）');
    expect(text(page, '.cart__total')).toBe('¥4.56');
    expect(w.navigations()).toEqual([]);

    await tap(page, '.cart__submit');
    await flush(50);
    expect(placed(w)).toHaveLength(2);
    expect(placed(w)[1]!.data).toMatchObject({ use_points: true, expected_total_fen: 456 });
    // Another body, another checkout: a new idempotency key.
    expect(placed(w)[1]!.header['idempotency-key']).not.toBe(placed(w)[0]!.header['idempotency-key']);
  });

  it('says what more reaches the next full-reduction tier', async () => {
    const w = setup(
      {
        'POST /api/v1/orders/quote': quote,
        'GET /api/v1/marketing/promotions': () => ({
          status: 200,
          body: {
            promotions: [
              {
                id: 'pr1',
                title_zh: '满减',
                title_en: 'Spend and save',
                kind: 'tiered',
                tiers: [
                  { threshold_fen: 1_000, amount_off_fen: 100 },
                  { threshold_fen: 2_000, amount_off_fen: 300 },
                ],
                percent_off: 0,
                product_ids: [],
                category_ids: [],
                start_time: '2026-01-01T00:00:00Z',
                end_time: '2099-01-01T00:00:00Z',
              },
            ],
          },
        }),
      },
      { marketing: true },
    );
    const page = await openCart();
    // Two waters at the quote's ¥3: ¥4 more reaches 满10减1.
    expect(text(page, '.cart__tier-hint')).toBe('再买 ¥4 可减 ¥1');
    expect(w.requests.filter((r) => r.path === '/api/v1/marketing/promotions')[0]!.header.authorization).toBe('Bearer at');
    await tap(page, '.cart__plus');
    await flush(20);
    await tap(page, '.cart__plus');
    await flush(20);
    await tap(page, '.cart__plus');
    await flush(20);
    // Five: 满10减1 reached, ¥10 more for 满20减3.
    expect(text(page, '.cart__tier-hint')).toBe('再买 ¥5 可减 ¥3');
  });

  it('shows every kind of discount on the order', async () => {
    setup({
      'GET /api/v1/orders/o1': () => ({
        status: 200,
        body: order('paid', {
          discounts: [
            d('PROMOTION', '午市特惠·8折', 120),
            d('MEMBER_LEVEL', '金卡优惠 5%', 24),
            { ...d('COUPON', '满3减1', 100), coupon_id: 'c-1' },
            d('POINTS', '积分抵扣（100 积分）', 100),
          ],
          amounts: { items_fen: 600, packaging_fee_fen: 100, total_fen: 356, discount_fen: 344 },
        }),
      }),
    });
    const page = render('packages/ordering/pages/order/index');
    await page.instance.onLoad({ id: 'o1' });
    await flush(20);
    expect(texts(page, '.order__discount-label')).toEqual(['促销 午市特惠·8折', '金卡优惠 5%', '优惠券 满3减1', '积分抵扣（100 积分）']);
    expect(texts(page, '.order__discount-amount')).toEqual(['-¥1.20', '-¥0.24', '-¥1.00', '-¥1.00']);
    expect(text(page, '.order__total')).toBe('¥3.56');
    page.detach();
  });
});

describe('orders page', () => {
  it('lists orders and loads the next page', async () => {
    const w = setup({
      'GET /api/v1/orders': (req) =>
        req.query.get('page_token') === 'p2'
          ? { status: 200, body: { orders: [order('completed', { id: 'o0', order_number: '20261123-0001' })], next_page_token: null } }
          : { status: 200, body: { orders: [order('paid')], next_page_token: 'p2' } },
    });
    const page = render('packages/ordering/pages/orders/index');
    await page.instance.onLoad({});
    await flush(20);
    expect(texts(page, '.orders__status')).toEqual(['已支付，等待商家接单']);
    expect(text(page, '.orders__summary')).toBe('矿泉水 共 2 件');
    await tap(page, '.orders__more');
    await flush(20);
    expect(texts(page, '.orders__status')).toEqual(['已支付，等待商家接单', '已完成']);
    expect(page.querySelector('.orders__more')).toBeFalsy();
    await tap(page, '.orders__row', 1);
    expect(w.navigations()).toEqual(['navigateTo /packages/ordering/pages/order/index?id=o0']);
  });
});
