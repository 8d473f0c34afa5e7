// The catalog subpackage (browse, product detail) and the identity subpackage (profile).
import { bootConfig, flush, installWx, marketingModule, signIn, menu, type FakeRequest } from '../support/wx';
import { render, resetCore, tap, text, texts } from '../support/simulate';

const APPID = 'wxshop00000001';
const user = { id: 'u1', display_name: '顾客', nickname: '小明', avatar_url: '', phone: '' };

/** 20% off the coffee category (c1: the latte and the water). */
const coffeeOff = {
  id: 'pr-coffee',
  title_zh: '咖啡节',
  title_en: 'Coffee days',
  kind: 'percent_off',
  tiers: [],
  percent_off: 20,
  product_ids: [],
  category_ids: ['c1'],
  start_time: '2026-01-01T00:00:00Z',
  end_time: '2099-01-01T00:00:00Z',
};

function setup(config = bootConfig()) {
  const seen: FakeRequest[] = [];
  const w = installWx({
    appid: APPID,
    handler: (req) => {
      seen.push(req);
      if (req.path === '/api/v1/menu') return { status: 200, body: menu() };
      if (req.path === '/api/v1/marketing/promotions') return { status: 200, body: { promotions: [coffeeOff] } };
      if (req.path === '/api/v1/me' && req.method === 'GET') return { status: 200, body: user };
      if (req.path === '/api/v1/me' && req.method === 'POST') return { status: 200, body: { ...user, ...(req.data as object) } };
      return { status: 304 };
    },
  });
  resetCore();
  w.storage.set(`mm:${APPID}:boot`, { config, etag: 'e', fetchedAt: Date.now() });
  signIn(w, APPID, user);
  return { w, seen };
}

describe('catalog pages', () => {
  it('browses products by category and opens one', async () => {
    const { w } = setup();
    const page = render('packages/catalog/pages/products/index');
    await page.instance.onLoad({});
    await flush(20);
    expect(texts(page, '.products__section')).toEqual(['咖啡', '甜点']);
    expect(texts(page, '.products__name')).toEqual(['拿铁', '矿泉水', '芝士蛋糕']);
    await tap(page, '.products__item', 0);
    expect(w.navigations()).toEqual(['navigateTo /packages/catalog/pages/product/index?id=p-latte']);
  });

  it('shows a product’s SKUs with prices and leads to ordering when it is on', async () => {
    const { w } = setup();
    const page = render('packages/catalog/pages/product/index');
    await page.instance.onLoad({ id: 'p-latte' });
    await flush(20);
    expect(text(page, '.product__name')).toBe('拿铁');
    expect(texts(page, '.product__sku')).toEqual(['中杯 / 热¥25.00', '大杯 / 热¥28.00', '大杯 / 冰¥28.00 售罄']);
    // Marketing off: no promotions asked for, nothing struck through.
    expect(page.querySelector('.product__list-price')).toBeFalsy();
    expect(page.querySelector('.product__promotion')).toBeFalsy();
    await tap(page, '.product__order');
    expect(w.navigations()).toEqual(['reLaunch /packages/ordering/pages/menu/index']);
  });

  it('leaves sold-out products off the menu when the shop turns 显示已售罄商品 off', async () => {
    const modules = bootConfig().modules.map((m: { id: string; config: object }) =>
      m.id === 'catalog' ? { ...m, config: { show_sold_out: false } } : m,
    );
    setup(bootConfig({ modules }));
    const page = render('packages/catalog/pages/products/index');
    await page.instance.onLoad({});
    await flush(20);
    expect(texts(page, '.products__name')).toEqual(['拿铁', '矿泉水']);
    expect(texts(page, '.products__section')).toEqual(['咖啡']);
  });

  it('shows the promotional prices with the list price struck through when the shop has marketing on', async () => {
    setup(bootConfig({ modules: [...bootConfig().modules, marketingModule()] }));
    const list = render('packages/catalog/pages/products/index');
    await list.instance.onLoad({});
    await flush(20);
    // The coffee category at 8折 (the water: ¥3 → ¥2.40); the cake is in another category.
    expect(texts(list, '.products__item .mm-price')).toEqual(['¥20.00¥25.008折', '¥2.40¥3.008折', '¥32.00 售罄']);
    expect(texts(list, '.products__list-price')).toEqual(['¥25.00', '¥3.00']);

    const page = render('packages/catalog/pages/product/index');
    await page.instance.onLoad({ id: 'p-latte' });
    await flush(20);
    expect(text(page, '.product__promotion')).toBe('咖啡节 8折');
    expect(texts(page, '.product__sku')).toEqual(['中杯 / 热¥20.00¥25.00', '大杯 / 热¥22.40¥28.00', '大杯 / 冰¥22.40¥28.00 售罄']);
    expect(texts(page, '.product__list-price')).toEqual(['¥25.00', '¥28.00', '¥28.00']);
  });

  it('hides the way to order when ordering is off', async () => {
    setup(bootConfig({ modules: bootConfig().modules.filter((m: { id: string }) => m.id !== 'ordering') }));
    const page = render('packages/catalog/pages/product/index');
    await page.instance.onLoad({ id: 'p-water' });
    await flush(20);
    expect(page.querySelector('.product__order')).toBeFalsy();
  });
});

describe('profile page', () => {
  it('saves the nickname with POST /api/v1/me (wx.request cannot PATCH)', async () => {
    const { w, seen } = setup();
    const page = render('packages/identity/pages/profile/index');
    await page.instance.onLoad({});
    await flush(20);
    page.querySelector('.profile__input').dispatchEvent('input', { detail: { value: ' 阿明 ' } });
    await flush(10);
    await tap(page, '.profile__save');
    await flush(20);
    const save = seen.find((r) => r.path === '/api/v1/me' && r.method === 'POST')!;
    expect(save.data).toEqual({ nickname: '阿明' });
    expect(save.header.authorization).toBe('Bearer at');
    expect(w.toasts()).toContain('已保存');
  });
});
