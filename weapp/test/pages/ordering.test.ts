// The ordering subpackage's pages against a fake BFF: menu with rail, search, SKU picker and
// cart bar; the cart page; the guard that sends a disabled module's deep link away. With
// marketing on, the promotions running: promotional prices with the list price struck through,
// a tag, a banner, the picker's and the cart bar's prices; list prices when they fail to load.
import { bootConfig, flush, installWx, marketingModule, menu, signIn, type FakeResponse } from '../support/wx';
import { render, resetCore, tap, text, texts } from '../support/simulate';

const APPID = 'wxshop00000001';

function setup(config = bootConfig()) {
  const w = installWx({
    appid: APPID,
    handler: (req) => {
      if (req.path === '/api/v1/menu') return { status: 200, body: menu() };
      if (req.path === '/api/v1/app/config') return { status: 304 };
      return { status: 404 };
    },
  });
  resetCore();
  w.storage.set(`mm:${APPID}:boot`, { config, etag: 'e', fetchedAt: Date.now() });
  return w;
}

async function openMenu(query: Record<string, string> = {}) {
  const page = render('packages/ordering/pages/menu/index');
  await page.instance.onLoad(query);
  await flush(20);
  return page;
}

describe('menu page', () => {
  it('lists categories on the rail and their products, sold-out ones marked', async () => {
    setup();
    const page = await openMenu();
    expect(texts(page, '.menu__rail-item')).toEqual(['咖啡', '甜点']);
    expect(texts(page, '.menu__list .menu__name')).toEqual(['拿铁', '矿泉水', '芝士蛋糕']);
    expect(texts(page, '.menu__badge--out')).toEqual(['售罄']);
    expect(text(page, '.menu__list .mm-price')).toBe('¥25.00起');
    await tap(page, '.menu__rail-item', 1);
    expect(page.instance.data.scrollInto).toBe('section-c2');
    expect(page.querySelectorAll('.menu__rail-item--on').map((c: any) => c.dom.textContent.trim())).toEqual(['甜点']);
  });

  it('searches by name and tag', async () => {
    setup();
    const page = await openMenu();
    page.querySelector('.menu__search-input').dispatchEvent('input', { detail: { value: '热销' } });
    await flush(10);
    expect(texts(page, '.menu__results .menu__name')).toEqual(['拿铁']);
    page.querySelector('.menu__search-input').dispatchEvent('input', { detail: { value: 'zzz' } });
    await flush(10);
    expect(text(page, '.menu__no-results')).toBe('没有找到相关商品');
  });

  it('adds a single-SKU product at once and shows the cart bar', async () => {
    const w = setup();
    const page = await openMenu();
    await tap(page, '.menu__list .menu__product', 1);
    expect(text(page, '.menu__cart-count')).toBe('1');
    expect(text(page, '.menu__cart-total')).toBe('¥3.00');
    expect((w.storage.get(`mm:${APPID}:ordering.cart`) as { lines: unknown[] }).lines).toHaveLength(1);
    await tap(page, '.menu__checkout');
    expect(w.navigations()).toEqual(['navigateTo /packages/ordering/pages/cart/index']);
  });

  it('picks specs in the SKU picker: impossible values are disabled', async () => {
    setup();
    const page = await openMenu();
    await tap(page, '.menu__list .menu__product', 0);
    const picker = page.querySelector('.picker-host');
    expect(texts(picker, '.picker__spec')).toEqual(['杯型', '温度']);
    expect(text(picker, '.picker__price')).toBe('¥25.00');
    await tap(picker, '.picker__value', 1); // 大杯
    expect(text(picker, '.picker__price')).toBe('¥28.00');
    expect(texts(picker, '.picker__value--off')).toEqual(['冰']);
    await tap(picker, '.picker__plus');
    await tap(picker, '.picker__add');
    expect(text(page, '.menu__cart-count')).toBe('2');
    expect(text(page, '.menu__cart-total')).toBe('¥56.00');
    expect(page.instance.data.picking).toBeNull();
  });

  it('remembers the table from the QR code scene', async () => {
    const w = setup();
    const page = await openMenu({ scene: encodeURIComponent('t=A12') });
    expect(text(page, '.menu__table')).toBe('桌号 A12');
    expect(w.storage.get(`mm:${APPID}:ordering.table`)).toBe('A12');
  });

  it('sends a deep link to the "not available" page when ordering is off', async () => {
    const w = setup(bootConfig({ modules: bootConfig().modules.filter((m: { id: string }) => m.id !== 'ordering') }));
    await openMenu();
    expect(w.navigations()).toEqual(['redirectTo /pages/unavailable/index?module=ordering']);
    expect(w.requests.some((r) => r.path === '/api/v1/menu')).toBe(false);
  });
});

describe('menu page with promotions', () => {
  const user = { id: 'u1', display_name: '顾客', nickname: '小明', avatar_url: '', phone: '' };
  const promotion = (over: Record<string, unknown>) => ({
    id: 'pr',
    title_zh: '活动',
    title_en: 'Offer',
    kind: 'percent_off',
    tiers: [],
    percent_off: 0,
    product_ids: [],
    category_ids: [],
    start_time: '2026-01-01T00:00:00Z',
    end_time: '2099-01-01T00:00:00Z',
    ...over,
  });
  // 20% off the latte (by name), and 满50减5，满100减15 over everything.
  const running = [
    promotion({ id: 'pr-latte', title_zh: '新品尝鲜', percent_off: 20, product_ids: ['p-latte'] }),
    promotion({
      id: 'pr-tiers',
      title_zh: '午市满减',
      kind: 'tiered',
      tiers: [
        { threshold_fen: 5_000, amount_off_fen: 500 },
        { threshold_fen: 10_000, amount_off_fen: 1_500 },
      ],
    }),
  ];

  function setupPromotions(answer: () => FakeResponse, marketing = true) {
    const w = installWx({
      appid: APPID,
      handler: (req) => {
        if (req.path === '/api/v1/menu') return { status: 200, body: menu() };
        if (req.path === '/api/v1/marketing/promotions') return answer();
        if (req.path === '/api/v1/app/config') return { status: 304 };
        return { status: 404 };
      },
    });
    resetCore();
    const config = bootConfig({ modules: [...bootConfig().modules, ...(marketing ? [marketingModule()] : [])] });
    w.storage.set(`mm:${APPID}:boot`, { config, etag: 'e', fetchedAt: Date.now() });
    signIn(w, APPID, user);
    return w;
  }

  it('strikes the list price through beside the promotional price, tags it, and shows the promotions as a banner', async () => {
    const w = setupPromotions(() => ({ status: 200, body: { promotions: running } }));
    const page = await openMenu();
    expect(w.requests.find((r) => r.path === '/api/v1/marketing/promotions')!.header.authorization).toBe('Bearer at');
    expect(texts(page, '.menu__banner-line')).toEqual(['新品尝鲜：指定商品8折', '午市满减：满50减5，满100减15']);
    // The latte from ¥25 at 8折: ¥20 (25 − floor(25 × 20%)); water and cake at list price.
    expect(texts(page, '.menu__list .mm-price')).toEqual(['¥20.00起', '¥3.00', '¥32.00']);
    expect(texts(page, '.menu__list .menu__list-price')).toEqual(['¥25.00']);
    expect(texts(page, '.menu__list .menu__promo-tag')).toEqual(['8折']);
    // On the latte's row.
    expect(page.querySelectorAll('.menu__list .menu__product')[0].dom.textContent.replace(/\s+/g, '')).toBe(
      '拿铁浓缩咖啡与牛奶¥20.00起¥25.008折+',
    );

    // The picker: the SKU's promotional price, its list price struck through.
    await tap(page, '.menu__list .menu__product', 0);
    const picker = page.querySelector('.picker-host');
    expect(text(picker, '.picker__price')).toBe('¥20.00');
    expect(text(picker, '.picker__list-price')).toBe('¥25.00');
    expect(text(picker, '.picker__tag')).toBe('8折');
    await tap(picker, '.picker__value', 1); // 大杯: ¥28 → ¥22.40
    expect(text(picker, '.picker__price')).toBe('¥22.40');
    expect(text(picker, '.picker__list-price')).toBe('¥28.00');
    await tap(picker, '.picker__plus');
    await tap(picker, '.picker__add');
    await tap(page, '.menu__list .menu__product', 1);
    // The cart bar counts the promotional prices: 2 × ¥22.40 + ¥3.
    expect(text(page, '.menu__cart-count')).toBe('3');
    expect(text(page, '.menu__cart-total')).toBe('¥47.80');

    // Search results read the same.
    page.querySelector('.menu__search-input').dispatchEvent('input', { detail: { value: '拿铁' } });
    await flush(10);
    expect(texts(page, '.menu__results .mm-price')).toEqual(['¥20.00起']);
    expect(texts(page, '.menu__results .menu__list-price')).toEqual(['¥25.00']);
  });

  it('shows list prices and no banner when the promotions cannot be loaded', async () => {
    setupPromotions(() => ({ status: 500, body: { code: 'INTERNAL', message: 'boom' } }));
    const page = await openMenu();
    expect(page.querySelector('.menu__error')).toBeFalsy();
    expect(texts(page, '.menu__list .menu__name')).toEqual(['拿铁', '矿泉水', '芝士蛋糕']);
    expect(texts(page, '.menu__list .mm-price')).toEqual(['¥25.00起', '¥3.00', '¥32.00']);
    expect(page.querySelector('.menu__list-price')).toBeFalsy();
    expect(page.querySelector('.menu__banner')).toBeFalsy();
  });

  it('asks for no promotions when the shop has marketing off', async () => {
    const w = setupPromotions(() => ({ status: 200, body: { promotions: running } }), false);
    const page = await openMenu();
    expect(w.requests.some((r) => r.path === '/api/v1/marketing/promotions')).toBe(false);
    expect(page.querySelector('.menu__list-price')).toBeFalsy();
    expect(page.querySelector('.menu__banner')).toBeFalsy();
  });
});

describe('cart page', () => {
  it('changes quantities and offers the shop’s fulfilment modes, dine-in first at a table', async () => {
    const w = setup();
    w.storage.set(`mm:${APPID}:ordering.table`, '8');
    w.storage.set(`mm:${APPID}:ordering.cart`, {
      lines: [{ skuId: 's-water', productId: 'p-water', name: '矿泉水', specs: '', unitFen: 300, quantity: 2 }],
    });
    const page = render('packages/ordering/pages/cart/index');
    await page.instance.onLoad({});
    await flush(10);
    expect(texts(page, '.cart__mode')).toEqual(['堂食', '自取', '外送']);
    expect(text(page, '.cart__mode--on')).toBe('堂食');
    expect(text(page, '.cart__table')).toBe('8');
    expect(text(page, '.cart__subtotal')).toBe('¥6.00');
    await tap(page, '.cart__plus');
    expect(text(page, '.cart__qty')).toBe('3');
    await tap(page, '.cart__minus');
    await tap(page, '.cart__minus');
    await tap(page, '.cart__minus');
    expect(text(page, '.cart__empty-text')).toBe('购物车是空的，去点些什么吧');
  });
});
