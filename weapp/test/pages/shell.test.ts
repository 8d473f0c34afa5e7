// The app shell: launch, home with entries and tab bar, the theme on page roots, "not available".
import { bootConfig, flush, installWx, type Handler } from '../support/wx';
import { core, render, resetCore, simulate, tap, text, texts } from '../support/simulate';

const APPID = 'wxshop00000001';
const BOOT_KEY = `mm:${APPID}:boot`;

function setup(handler: Handler, stored?: unknown) {
  const w = installWx({ appid: APPID, handler });
  resetCore();
  if (stored) w.storage.set(BOOT_KEY, { config: stored, etag: 'W/"t1-7"', fetchedAt: Date.now() });
  return w;
}

describe('launch page', () => {
  it('opens the first tab once the config is there', async () => {
    const w = setup(() => ({ status: 200, body: bootConfig(), header: { etag: 'W/"t1-7"' } }));
    const page = render('pages/launch/index');
    page.instance.onLoad({});
    await flush(20);
    expect(w.navigations()).toEqual(['reLaunch /packages/tenant/pages/home/index']);
    expect(page.dom.innerHTML).toContain('--mm-primary:#E4393C');
  });

  it('says the shop cannot open without network or a stored config, and retries', async () => {
    let online = false;
    const w = setup(() => (online ? { status: 200, body: bootConfig(), header: {} } : 'fail'));
    const page = render('pages/launch/index');
    page.instance.onLoad({});
    await flush(1500);
    expect(text(page, '.launch__title')).toBe('暂时无法打开店铺');
    expect(text(page, '.launch__error')).toBe('网络不给力，请检查网络后重试');
    online = true;
    await tap(page, '.launch__retry');
    await flush(20);
    expect(w.navigations()).toEqual(['reLaunch /packages/tenant/pages/home/index']);
  });
});

describe('home page', () => {
  it('shows the shop, its announcement, an entry per enabled module and the tab bar', async () => {
    setup(() => ({ status: 304 }), bootConfig());
    const page = render('packages/tenant/pages/home/index');
    page.instance.onLoad({});
    await flush(20);
    expect(text(page, '.home__name')).toBe('示例餐厅');
    expect(text(page, '.home__announcement-text')).toBe('欢迎光临');
    expect(texts(page, '.home__entry-text')).toEqual(['个人资料', '商品', '点单', '订单']);
    const tabBar = page.querySelector('.tab-bar-host');
    expect(texts(tabBar, '.tab-bar__text')).toEqual(['首页', '点单', '订单', '我的']);
    expect(tabBar.querySelectorAll('.tab-bar__item--active').map((t: any) => t.dom.textContent.trim())).toEqual(['首页']);
    const root = page.querySelector('.home').dom as HTMLElement;
    expect(root.getAttribute('style')).toContain('--mm-primary:#E4393C');
  });

  it('follows a new config live: theme and modules change without a release', async () => {
    const next = bootConfig({
      version: 8,
      theme: { ...bootConfig().theme, primary_color: '#1E3A8A' },
      modules: bootConfig().modules.filter((m: { id: string }) => m.id !== 'ordering'),
    });
    setup(() => ({ status: 200, body: next, header: { etag: 'W/"t1-8"' } }), bootConfig());
    const page = render('packages/tenant/pages/home/index');
    page.instance.onLoad({});
    await flush(20);
    await core('boot').refresh(true);
    await flush(20);
    expect((page.querySelector('.home').dom as HTMLElement).getAttribute('style')).toContain('--mm-primary:#1E3A8A');
    expect(texts(page, '.home__entry-text')).toEqual(['个人资料', '商品']);
    expect(texts(page.querySelector('.tab-bar-host'), '.tab-bar__text')).toEqual(['首页', '我的']);
  });

  it('opens offline from the stored config and says so', async () => {
    setup(() => 'fail', bootConfig());
    const page = render('packages/tenant/pages/home/index');
    page.instance.onLoad({});
    await flush(20);
    expect(text(page, '.home__name')).toBe('示例餐厅');
    expect(page.querySelector('.mm-offline')).toBeFalsy();
    await core('boot').refresh(true);
    await flush(1500);
    expect(text(page, '.mm-offline')).toBe('网络不可用，显示的是上次保存的内容');
  });

  it('switches tabs without relaunching: a new tab opens over the current one, an open one is gone back to', async () => {
    const w = setup(() => ({ status: 304 }), bootConfig());
    w.options.stack = ['packages/tenant/pages/home/index'];
    const home = render('packages/tenant/pages/home/index');
    home.instance.onLoad({});
    await flush(20);
    await tap(home.querySelector('.tab-bar-host'), '.tab-bar__item', 1);
    expect(w.navigations()).toEqual(['navigateTo /packages/ordering/pages/menu/index']);

    // On the menu, over home: home is gone back to, keeping its state, not relaunched.
    w.options.stack = ['packages/tenant/pages/home/index', 'packages/ordering/pages/menu/index'];
    const menu = render('packages/ordering/pages/menu/index');
    await tap(menu.querySelector('.tab-bar-host'), '.tab-bar__item', 0);
    expect(w.calls.filter((c) => c.api === 'navigateBack').map((c) => c.args.delta)).toEqual([1]);
    expect(w.navigations()).toEqual(['navigateTo /packages/ordering/pages/menu/index']);
  });

  it("hides WeChat's 返回首页 button on tab pages", async () => {
    const w = setup(() => ({ status: 304 }), bootConfig());
    const page = render('packages/ordering/pages/menu/index');
    page.triggerPageLifeTime('show');
    await flush(20);
    expect(w.calls.some((c) => c.api === 'hideHomeButton')).toBe(true);
  });
});

describe('"not available" page', () => {
  it('explains and leads home', async () => {
    const w = setup(() => ({ status: 304 }), bootConfig());
    const page = render('pages/unavailable/index');
    page.instance.onLoad({ module: 'booking' });
    await simulate.sleep(10);
    expect(text(page, '.unavailable__heading')).toBe('该功能暂未开放');
    await tap(page, '.unavailable__home');
    expect(w.navigations()).toEqual(['reLaunch /packages/tenant/pages/home/index']);
  });
});
