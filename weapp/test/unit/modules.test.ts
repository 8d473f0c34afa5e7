import { bootConfig, installWx } from '../support/wx';

async function load(config: unknown, refreshed: unknown = config) {
  const KEY = 'mm:wxshop00000001:boot';
  const w = installWx({ appid: 'wxshop00000001', handler: () => ({ status: 200, body: refreshed, header: { etag: 'new' } }) });
  w.storage.set(KEY, { config, etag: 'old', fetchedAt: Date.now() });
  vi.resetModules();
  const modules = await import('../../miniprogram/core/modules');
  return { w, modules };
}

describe('modules', () => {
  it('builds tabs from the enabled, shipped modules only', async () => {
    const { modules } = await load(bootConfig());
    const tabs = modules.visibleTabs(bootConfig());
    // booking ships but is not enabled in this config: its tab stays hidden.
    expect(tabs.map((t) => t.url)).toEqual([
      '/packages/tenant/pages/home/index',
      '/packages/ordering/pages/menu/index',
      '/packages/ordering/pages/orders/index',
      '/packages/tenant/pages/me/index',
    ]);
    const withoutOrdering = bootConfig({ modules: bootConfig().modules.filter((m: { id: string }) => m.id !== 'ordering') });
    expect(modules.visibleTabs(withoutOrdering).map((t) => t.text)).toEqual(['首页', '我的']);
  });

  it('gives home an entry per enabled module', async () => {
    const { modules } = await load(bootConfig());
    expect(modules.homeEntries(bootConfig()).map((e) => `${e.text} ${e.url}`)).toEqual([
      '个人资料 /packages/identity/pages/profile/index',
      '商品 /packages/catalog/pages/products/index',
      '点单 /packages/ordering/pages/menu/index',
      '订单 /packages/ordering/pages/orders/index',
    ]);
  });

  it('sends a deep link into a disabled module to the "not available" page', async () => {
    const off = bootConfig({ modules: bootConfig().modules.filter((m: { id: string }) => m.id !== 'ordering') });
    const { w, modules } = await load(off);
    expect(await modules.requireModule('ordering')).toBe(false);
    // It asked the BFF first: the module might have been switched on since the config was stored.
    expect(w.requests).toHaveLength(1);
    expect(w.navigations()).toEqual(['redirectTo /pages/unavailable/index?module=ordering']);
  });

  it('lets the page open when a fresh config shows the module was switched on', async () => {
    const off = bootConfig({ modules: bootConfig().modules.filter((m: { id: string }) => m.id !== 'ordering') });
    const { w, modules } = await load(off, bootConfig());
    expect(await modules.requireModule('ordering')).toBe(true);
    expect(w.navigations()).toEqual([]);
  });

  it('parses module routes', async () => {
    const { modules } = await load(bootConfig());
    expect(modules.parseRoute('packages/ordering/pages/menu/index')).toEqual({ module: 'ordering', page: 'pages/menu/index' });
    expect(modules.parseRoute('pages/launch/index')).toBeUndefined();
  });
});
