// The marketing subpackage's pages against a fake marketing BFF, on a pinned clock (Sunday
// 2026-12-06 12:00 in Shanghai, the phone's zone): the coupon centre with each template's terms,
// what is left and what the customer holds; a claim per tap with a key of its own (the client's
// retry of one tap reusing it); refusals in Chinese that change the card; my coupons in three
// tabs with terms and dates, "去使用" to the menu, and the coupon centre when there are none; the
// member card with its level, discount, perks, the way to the next level in the shop's unit, how
// points are earned, the coupons held and the points history a page at a time.
process.env.TZ = 'Asia/Shanghai';

import { bootConfig, flush, installWx, marketingModule, signIn, type FakeRequest, type FakeResponse } from '../support/wx';
import { render, resetCore, tap, text, texts } from '../support/simulate';

const APPID = 'wxshop00000001';
const NOW = Date.parse('2026-12-06T04:00:00Z');
const user = { id: 'u1', display_name: '顾客', nickname: '小明', avatar_url: '', phone: '' };

function terms(over: Record<string, unknown> = {}) {
  return {
    id: 'tpl-100',
    title_zh: '满100减20',
    title_en: '¥20 off ¥100',
    description: '全场通用',
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
    remaining: 8,
    ...over,
  };
}

const t100 = terms();
const tPct = terms({
  id: 'tpl-pct',
  title_zh: '咖啡8折',
  description: '',
  kind: 'percent_off',
  amount_off_fen: 0,
  percent_off: 20,
  cap_fen: 1000,
  threshold_fen: 0,
  limited_scope: true,
  remaining: 0,
});
const tFive = terms({
  id: 'tpl-5',
  title_zh: '立减5元',
  description: '',
  kind: 'amount_off',
  amount_off_fen: 500,
  threshold_fen: 0,
  valid_days: 0,
  valid_from: '2026-12-01T00:00:00Z',
  valid_until: '2026-12-31T15:59:00Z',
  per_customer_limit: 3,
  remaining: 50,
});

function coupon(id: string, t: Record<string, unknown>, over: Record<string, unknown> = {}) {
  return {
    id,
    state: 'available',
    terms: t,
    valid_from: '2026-12-01T04:00:00Z',
    valid_until: '2026-12-08T08:00:00Z',
    source: 'claimed',
    ...over,
  };
}

type Routes = Record<string, (req: FakeRequest) => FakeResponse | 'fail'>;

function setup(routes: Routes, opts: { enabled?: boolean; config?: Record<string, unknown> } = {}) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  const w = installWx({
    appid: APPID,
    handler: (req) => {
      const r = routes[`${req.method} ${req.path}`];
      return r ? r(req) : { status: 304 };
    },
  });
  resetCore();
  const base = bootConfig();
  const config = { ...base, modules: opts.enabled === false ? base.modules : [...base.modules, marketingModule(opts.config)] };
  w.storage.set(`mm:${APPID}:boot`, { config, etag: 'e', fetchedAt: Date.now() });
  signIn(w, APPID, user);
  return w;
}

afterEach(() => {
  vi.useRealTimers();
});

const refusal = (code: string, metadata: Record<string, string> = {}): FakeResponse => ({
  status: 400,
  body: { code, message: code.toLowerCase(), details: { fields: [], metadata } },
});
const modals = (w: ReturnType<typeof setup>) => w.calls.filter((c) => c.api === 'showModal').map((c) => String(c.args.content));
const claims = (w: ReturnType<typeof setup>, id: string) =>
  w.requests.filter((r) => r.method === 'POST' && r.path === `/api/v1/marketing/coupon-templates/${id}/claim`);

async function open(page: 'coupons' | 'mine' | 'member', query: Record<string, string> = {}) {
  const p = render(`packages/marketing/pages/${page}/index`);
  await p.instance.onLoad(query);
  await flush(20);
  return p;
}

describe('coupon centre', () => {
  const centre = (over: Routes = {}): Routes => ({
    'GET /api/v1/marketing/coupon-templates': () => ({ status: 200, body: { templates: [t100, tPct, tFive] } }),
    // The customer already holds one 立减5元 (of three allowed).
    'GET /api/v1/marketing/coupons': () => ({ status: 200, body: { coupons: [coupon('c-5', tFive)] } }),
    ...over,
  });

  it('lists the coupons to claim with their terms, what is left and what the customer holds', async () => {
    const w = setup(centre());
    const page = await open('coupons');
    expect(texts(page, '.centre__title')).toEqual(['满100减20', '咖啡8折', '立减5元']);
    expect(texts(page, '.centre__face')).toEqual(['¥20', '8折', '¥5']);
    expect(texts(page, '.centre__condition')).toEqual(['满100可用', '无门槛', '无门槛']);
    expect(texts(page, '.centre__rule')).toEqual(['满100减20', '8折 最高减10元', '无门槛立减5元']);
    expect(texts(page, '.centre__validity')).toEqual(['领取后 7 天内有效', '领取后 7 天内有效', '有效期至 2026.12.31 23:59']);
    expect(texts(page, '.centre__note')).toEqual(['限部分商品可用']);
    expect(texts(page, '.centre__limit')).toEqual(['每人限领 3 张']);
    expect(texts(page, '.centre__claim')).toEqual(['立即领取', '已抢光', '再领一张']);
    expect(texts(page, '.centre__remaining')).toEqual(['剩余 8 张', '剩余 50 张']);
    expect(texts(page, '.centre__held')).toEqual(['已领 1 张']);
    // The held count comes from every coupon the customer has, whatever its state.
    expect(w.requests.find((r) => r.path === '/api/v1/marketing/coupons')!.query.get('state')).toBeNull();
  });

  it('claims one coupon per tap, each under a key of its own, and shows it claimed', async () => {
    let attempts = 0;
    const w = setup(
      centre({
        // As the server answers: the coupon's terms without the shop's counters (so "remaining"
        // is the total), which the page must not take for what is left.
        'POST /api/v1/marketing/coupon-templates/tpl-100/claim': () => ({
          status: 201,
          body: coupon('c-new', { ...t100, remaining: 1000 }),
        }),
        'POST /api/v1/marketing/coupon-templates/tpl-5/claim': () => {
          attempts += 1;
          // The first attempt of the first tap gets no answer; the client tries again.
          return attempts === 1 ? 'fail' : { status: 201, body: coupon(`c-5-${attempts}`, { ...tFive, remaining: 1000 }) };
        },
      }),
    );
    const page = await open('coupons');
    await tap(page, '.centre__claim', 0);
    await flush(20);
    expect(w.toasts()).toContain('领取成功');
    expect(texts(page, '.centre__claim')).toEqual(['已领取', '已抢光', '再领一张']);
    expect(texts(page, '.centre__remaining')).toEqual(['剩余 7 张', '剩余 50 张']);
    const [first] = claims(w, 'tpl-100');
    expect(first!.header['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    // A claimed card is not tapped again.
    await tap(page, '.centre__claim', 0);
    expect(claims(w, 'tpl-100')).toHaveLength(1);

    await tap(page, '.centre__claim', 2);
    await flush(600);
    expect(texts(page, '.centre__held')).toEqual(['已领 2 张']);
    await tap(page, '.centre__claim', 2);
    await flush(20);
    expect(texts(page, '.centre__claim')[2]).toBe('已领取');
    const keys = claims(w, 'tpl-5').map((r) => r.header['idempotency-key']);
    expect(keys).toHaveLength(3);
    // The retry of the first tap kept its key; the second tap had a new one.
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
    expect(keys[0]).not.toBe(first!.header['idempotency-key']);
  });

  it('says why a claim is refused, in Chinese, and the card shows it', async () => {
    const w = setup(
      centre({
        'POST /api/v1/marketing/coupon-templates/tpl-100/claim': () => refusal('COUPON_LIMIT_REACHED', { limit: '1' }),
        'POST /api/v1/marketing/coupon-templates/tpl-5/claim': () => refusal('COUPONS_SOLD_OUT'),
      }),
    );
    const page = await open('coupons');
    await tap(page, '.centre__claim', 0);
    await flush(20);
    await tap(page, '.centre__claim', 2);
    await flush(20);
    expect(modals(w)).toEqual(['每人限领 1 张，你已领满', '优惠券已被抢光了']);
    expect(texts(page, '.centre__claim')).toEqual(['已领取', '已抢光', '已抢光']);
    expect(w.toasts()).toEqual([]);
  });

  it('drops a coupon the shop stopped handing out', async () => {
    const w = setup(centre({ 'POST /api/v1/marketing/coupon-templates/tpl-100/claim': () => refusal('COUPON_TEMPLATE_STOPPED') }));
    const page = await open('coupons');
    await tap(page, '.centre__claim', 0);
    await flush(20);
    expect(modals(w)).toEqual(['该优惠券已停止发放']);
    expect(texts(page, '.centre__title')).toEqual(['咖啡8折', '立减5元']);
  });

  it('says when there is nothing to claim, and links to my coupons', async () => {
    const w = setup(
      centre({
        'GET /api/v1/marketing/coupon-templates': () => ({ status: 200, body: { templates: [] } }),
        'GET /api/v1/marketing/coupons': () => ({ status: 200, body: { coupons: [] } }),
      }),
    );
    const page = await open('coupons');
    expect(text(page, '.centre__empty')).toBe('暂无可领取的优惠券');
    await tap(page, '.centre__mine');
    expect(w.navigations()).toEqual(['navigateTo /packages/marketing/pages/mine/index']);
  });

  it('sends the customer to "not available" when the shop has marketing off', async () => {
    const w = setup(centre(), { enabled: false });
    await open('coupons');
    expect(w.navigations()).toEqual(['redirectTo /pages/unavailable/index?module=marketing']);
    expect(w.requests.some((r) => r.path.startsWith('/api/v1/marketing/'))).toBe(false);
  });
});

describe('my coupons', () => {
  const mine = [
    coupon('c-late', t100, { valid_until: '2026-12-20T04:00:00Z' }),
    coupon('c-held', tFive, { state: 'locked', order_id: 'o1' }),
    coupon('c-soon', terms({ ...tPct, remaining: 5 }), { valid_until: '2026-12-07T04:00:00Z' }),
    coupon('c-booking', terms({ id: 'tpl-b', title_zh: '预约立减', kind: 'amount_off', threshold_fen: 0, modules: ['booking'] })),
    coupon('c-used', t100, { state: 'used', order_id: 'o0' }),
  ];
  const expired = coupon('c-old', tFive, { state: 'expired', valid_until: '2026-11-30T16:00:00Z' });

  const routes = (): Routes => ({
    'GET /api/v1/marketing/coupons': (req) =>
      req.query.get('page_token') === 'p2'
        ? { status: 200, body: { coupons: [expired] } }
        : { status: 200, body: { coupons: mine, next_page_token: 'p2' } },
  });

  it('splits the coupons into 可用, 已使用 and 已过期, with terms and dates', async () => {
    const w = setup(routes());
    const page = await open('mine');
    expect(w.requests.filter((r) => r.path === '/api/v1/marketing/coupons').map((r) => r.query.get('page_token'))).toEqual([null, 'p2']);
    expect(texts(page, '.mine__tab')).toEqual(['可用', '已使用', '已过期']);
    // Usable ones first, the soonest to end first; the one an unpaid order holds last.
    expect(texts(page, '.mine__title')).toEqual(['咖啡8折', '预约立减', '满100减20', '立减5元']);
    expect(texts(page, '.mine__rule')).toEqual(['8折 最高减10元', '无门槛立减20元', '满100减20', '无门槛立减5元']);
    expect(texts(page, '.mine__validity')).toEqual([
      '有效期至 2026.12.07 12:00',
      '有效期至 2026.12.08 16:00',
      '有效期至 2026.12.20 12:00',
      '有效期至 2026.12.08 16:00',
    ]);
    expect(texts(page, '.mine__note')).toEqual(['限部分商品可用', '仅限预约使用']);
    expect(texts(page, '.mine__state')).toEqual(['待支付订单使用中']);
    // "去使用" for what ordering's checkout takes; the booking-only coupon has none.
    expect(texts(page, '.mine__use')).toEqual(['去使用', '去使用']);

    await tap(page, '.mine__tab', 1);
    expect(texts(page, '.mine__title')).toEqual(['满100减20']);
    expect(texts(page, '.mine__state')).toEqual(['已使用']);
    expect(page.querySelector('.mine__use')).toBeFalsy();

    await tap(page, '.mine__tab', 2);
    expect(texts(page, '.mine__title')).toEqual(['立减5元']);
    expect(texts(page, '.mine__validity')).toEqual(['已于 2026.12.01 00:00 过期']);
    expect(texts(page, '.mine__state')).toEqual(['已过期']);
  });

  it('opens the menu to use a coupon', async () => {
    const w = setup(routes());
    const page = await open('mine');
    await tap(page, '.mine__use', 0);
    expect(w.navigations()).toEqual(['navigateTo /packages/ordering/pages/menu/index']);
  });

  it('sends a customer without coupons to the coupon centre', async () => {
    const w = setup({ 'GET /api/v1/marketing/coupons': () => ({ status: 200, body: { coupons: [] } }) });
    const page = await open('mine', { tab: 'used' });
    expect(text(page, '.mine__tab--on')).toBe('已使用');
    expect(text(page, '.mine__empty')).toBe('暂无已使用的优惠券');
    expect(page.querySelector('.mine__centre')).toBeFalsy();
    await tap(page, '.mine__tab', 0);
    expect(text(page, '.mine__empty')).toContain('暂无可用的优惠券');
    await tap(page, '.mine__centre');
    expect(w.navigations()).toEqual(['navigateTo /packages/marketing/pages/coupons/index']);
  });

  it('shows why the list did not load', async () => {
    setup({ 'GET /api/v1/marketing/coupons': () => refusal('MODULE_DISABLED') });
    const page = await open('mine');
    expect(text(page, '.mine__error')).toBe('该功能暂未开放');
  });
});

describe('member card', () => {
  const silver = { name_zh: '银卡会员', name_en: 'Silver', threshold: 10000, discount_percent: 5, perks: '生日当月双倍积分' };
  const gold = { name_zh: '金卡会员', name_en: 'Gold', threshold: 50000, discount_percent: 10, perks: '' };
  const entry = (delta: number, balance: number, kind: string, time: string, over: Record<string, unknown> = {}) => ({
    delta,
    balance_after: balance,
    kind,
    order_id: kind === 'ADJUSTED' ? undefined : 'o1',
    reason: '',
    create_time: time,
    ...over,
  });
  // Two orders paid, the second refunded, then 50 from the shop: newest first, two pages.
  const first = [
    entry(50, 96, 'ADJUSTED', '2026-12-06T03:00:00Z', { reason: '生日礼' }),
    entry(-46, 46, 'ORDER_REFUNDED', '2026-12-05T10:30:00Z', { order_id: 'o2' }),
  ];
  const second = [
    entry(46, 92, 'ORDER_PAID', '2026-12-05T10:00:00Z', { order_id: 'o2' }),
    entry(46, 46, 'ORDER_PAID', '2026-12-04T04:00:00Z'),
  ];

  const routes = (over: Routes = {}): Routes => ({
    'GET /api/v1/marketing/member': () => ({
      status: 200,
      body: { points: 96, lifetime_points: 92, lifetime_spend_fen: 26000, level: silver, next_level: gold },
    }),
    'GET /api/v1/marketing/member/points': (req) =>
      req.query.get('page_token') === 'p2'
        ? { status: 200, body: { entries: second } }
        : { status: 200, body: { entries: first, next_page_token: 'p2' } },
    // 可用 holds two (one of them held by an unpaid order); one used, one expired.
    'GET /api/v1/marketing/coupons': () => ({
      status: 200,
      body: {
        coupons: [
          coupon('c1', t100),
          coupon('c2', tFive, { state: 'locked', order_id: 'o3' }),
          coupon('c3', t100, { state: 'used', order_id: 'o1' }),
          coupon('c4', tFive, { state: 'expired', valid_until: '2026-11-30T16:00:00Z' }),
        ],
      },
    }),
    ...over,
  });

  it('shows the level, points, discount, perks, the way to the next level and how points are earned', async () => {
    const w = setup(routes(), { config: { points_per_yuan: 2, levels_by: 'spend', levels: [silver, gold] } });
    const page = await open('member');
    expect(text(page, '.member__level')).toBe('银卡会员');
    expect(text(page, '.member__points-value')).toBe('96');
    expect(text(page, '.member__discount')).toBe('下单享9.5折');
    expect(text(page, '.member__perks')).toBe('生日当月双倍积分');
    // ¥260 of the ¥500 gold asks, from silver's ¥100: 40% of the way.
    expect(text(page, '.member__progress-text')).toBe('再消费240元升级为金卡会员');
    expect(page.querySelector('.member__bar-fill').dom.getAttribute('style')).toContain('width: 40%');
    expect(text(page, '.member__earn')).toBe('每消费1元得2积分');
    expect(text(page, '.member__coupon-count')).toBe('2 张');

    expect(texts(page, '.member__entry-text')).toEqual(['门店调整 +50 · 生日礼', '订单退款 -46']);
    expect(texts(page, '.member__entry-time')).toEqual(['2026.12.06 11:00', '2026.12.05 18:30']);
    expect(texts(page, '.member__entry-balance')).toEqual(['余额 96', '余额 46']);
    expect(page.querySelectorAll('.member__entry-text--gain')).toHaveLength(1);

    await tap(page, '.member__more');
    await flush(20);
    expect(texts(page, '.member__entry-text')).toEqual(['门店调整 +50 · 生日礼', '订单退款 -46', '订单支付 +46', '订单支付 +46']);
    expect(texts(page, '.member__entry-balance')).toEqual(['余额 96', '余额 46', '余额 92', '余额 46']);
    expect(page.querySelector('.member__more')).toBeFalsy();
    const asked = w.requests.filter((r) => r.path === '/api/v1/marketing/member/points');
    expect(asked.map((r) => [r.query.get('page_token'), r.query.get('page_size')])).toEqual([
      [null, '20'],
      ['p2', '20'],
    ]);

    await tap(page, '.member__coupons');
    expect(w.navigations()).toEqual(['navigateTo /packages/marketing/pages/mine/index']);
  });

  it('counts the way up in points when the shop’s levels go by points, and calls a newcomer 普通会员', async () => {
    setup(
      routes({
        'GET /api/v1/marketing/member': () => ({
          status: 200,
          body: { points: 0, lifetime_points: 120, lifetime_spend_fen: 90000, next_level: { ...silver, threshold: 300 } },
        }),
        'GET /api/v1/marketing/member/points': () => ({ status: 200, body: { entries: [] } }),
      }),
      // A shop that gives no points (its levels go by points staff hand out).
      { config: { points_per_yuan: 0, levels_by: 'points' } },
    );
    const page = await open('member');
    expect(text(page, '.member__level')).toBe('普通会员');
    expect(text(page, '.member__points-value')).toBe('0');
    expect(text(page, '.member__progress-text')).toBe('再获得180积分升级为银卡会员');
    expect(page.querySelector('.member__discount')).toBeFalsy();
    expect(page.querySelector('.member__perks')).toBeFalsy();
    expect(page.querySelector('.member__earn')).toBeFalsy();
    expect(text(page, '.member__empty')).toBe('暂无积分记录');
    expect(page.querySelector('.member__more')).toBeFalsy();
  });

  it('says 已是最高等级 at the top level', async () => {
    setup(
      routes({
        'GET /api/v1/marketing/member': () => ({
          status: 200,
          body: { points: 900, lifetime_points: 900, lifetime_spend_fen: 90000, level: gold },
        }),
      }),
    );
    const page = await open('member');
    expect(text(page, '.member__level')).toBe('金卡会员');
    expect(text(page, '.member__discount')).toBe('下单享9折');
    expect(text(page, '.member__progress-text')).toBe('已是最高等级');
    // The spec's default: a point a yuan.
    expect(text(page, '.member__earn')).toBe('每消费1元得1积分');
  });

  it('shows new points when the customer comes back to it', async () => {
    let points = 96;
    setup(
      routes({
        'GET /api/v1/marketing/member': () => ({
          status: 200,
          body: { points, lifetime_points: points, lifetime_spend_fen: 0, next_level: silver },
        }),
      }),
    );
    const page = await open('member');
    expect(text(page, '.member__points-value')).toBe('96');
    points = 142;
    page.instance.onShow();
    await flush(20);
    expect(text(page, '.member__points-value')).toBe('142');
  });

  it('names points paid with at checkout, given back, and earned by a booking', async () => {
    setup(
      routes({
        'GET /api/v1/marketing/member/points': () => ({
          status: 200,
          body: {
            entries: [
              entry(20, 1_220, 'BOOKING_COMPLETED', '2026-12-06T05:00:00Z', { order_id: undefined }),
              entry(500, 1_200, 'ORDER_RETURNED', '2026-12-06T04:00:00Z'),
              entry(-500, 700, 'ORDER_SPENT', '2026-12-06T03:00:00Z'),
            ],
          },
        }),
      }),
    );
    const page = await open('member');
    expect(texts(page, '.member__entry-text')).toEqual(['预约完成 +20', '积分退回 +500', '积分抵扣 -500']);
    expect(page.querySelectorAll('.member__entry-text--gain')).toHaveLength(2);
  });

  it('shows why the card did not load, and no half-loaded card', async () => {
    setup(routes({ 'GET /api/v1/marketing/member': () => refusal('MODULE_DISABLED') }));
    const page = await open('member');
    expect(text(page, '.member__error')).toBe('该功能暂未开放');
    expect(page.querySelector('.member__card')).toBeFalsy();
    expect(page.querySelector('.member__history')).toBeFalsy();
  });

  it('sends the customer to "not available" when the shop has marketing off', async () => {
    const w = setup(routes(), { enabled: false });
    await open('member');
    expect(w.navigations()).toEqual(['redirectTo /pages/unavailable/index?module=marketing']);
    expect(w.requests.some((r) => r.path.startsWith('/api/v1/marketing/'))).toBe(false);
  });
});
