// The ordering subpackage's pages against a fake BFF: menu with rail, search, SKU picker and
// cart bar; the cart page; the guard that sends a disabled module's deep link away.
import { bootConfig, flush, installWx, menu } from '../support/wx';
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
