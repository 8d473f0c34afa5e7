// The user centre: login with wx.login, phone binding through the getPhoneNumber button, logout.
import { bootConfig, flush, installWx, marketingModule, type FakeRequest } from '../support/wx';
import { render, resetCore, tap, text, texts } from '../support/simulate';

const APPID = 'wxshop00000001';
const tokens = { access_token: 'at', access_expires_in: 900, refresh_token: 'rt', refresh_expires_in: 86400 };
const user = { id: 'u1', display_name: '顾客', nickname: '小明', avatar_url: '', phone: '' };

function setup(config = bootConfig()) {
  const seen: FakeRequest[] = [];
  const w = installWx({
    appid: APPID,
    loginCode: () => 'wx-code-1',
    handler: (req) => {
      seen.push(req);
      switch (`${req.method} ${req.path}`) {
        case 'POST /api/v1/auth/wechat-login':
          return { status: 200, body: { tokens, user, created: true } };
        case 'POST /api/v1/auth/phone':
          return (req.data as { code: string }).code === 'pc-ok'
            ? { status: 200, body: { ...user, phone: '13800000000' } }
            : { status: 400, body: { code: 'INVALID_WECHAT_CODE', message: 'bad', details: {} } };
        case 'POST /api/v1/auth/logout':
          return { status: 204 };
        case 'GET /api/v1/me':
          return { status: 200, body: user };
        default:
          return { status: 304 };
      }
    },
  });
  resetCore();
  w.storage.set(`mm:${APPID}:boot`, { config, etag: 'e', fetchedAt: Date.now() });
  return { w, seen };
}

describe('user centre', () => {
  it('logs in, binds the phone and logs out', async () => {
    const { w, seen } = setup();
    const page = render('packages/tenant/pages/me/index');
    page.instance.onLoad({});
    await flush(10);
    expect(text(page, '.me__name')).toBe('未登录');

    await tap(page, '.me__login');
    await flush(20);
    expect(text(page, '.me__name')).toBe('小明');
    expect(seen.find((r) => r.path === '/api/v1/auth/wechat-login')!.data).toEqual({ code: 'wx-code-1' });
    expect(text(page, '.me__links')).toContain('我的订单');

    page.querySelector('.me__bind').dispatchEvent('getphonenumber', { detail: {} });
    await flush(20);
    expect(w.toasts()).toContain('未授权手机号');

    page.querySelector('.me__bind').dispatchEvent('getphonenumber', { detail: { code: 'pc-bad' } });
    await flush(20);
    expect(w.toasts()).toContain('微信登录失败，请重试');

    page.querySelector('.me__bind').dispatchEvent('getphonenumber', { detail: { code: 'pc-ok' } });
    await flush(20);
    expect(text(page, '.me__phone')).toBe('手机号：13800000000');
    expect(seen.find((r) => r.path === '/api/v1/auth/phone' && (r.data as { code: string }).code === 'pc-ok')!.header.authorization).toBe(
      'Bearer at',
    );

    await tap(page, '.me__logout');
    await flush(20);
    expect(seen.some((r) => r.path === '/api/v1/auth/logout')).toBe(true);
    expect(text(page, '.me__name')).toBe('未登录');
    expect(w.storage.has(`mm:${APPID}:session`)).toBe(false);
  });

  it('calls the customer what the shop calls its members (会员称呼)', async () => {
    const modules = bootConfig().modules.map((m: { id: string; config: object }) =>
      m.id === 'identity' ? { ...m, config: { member_name: '贵宾' } } : m,
    );
    setup(bootConfig({ modules }));
    const page = render('packages/tenant/pages/me/index');
    page.instance.onLoad({});
    await tap(page, '.me__login');
    await flush(20);
    expect(text(page, '.me__badge')).toBe('贵宾');
  });

  it('says 会员 when the shop has not named its members', async () => {
    setup();
    const page = render('packages/tenant/pages/me/index');
    page.instance.onLoad({});
    await tap(page, '.me__login');
    await flush(20);
    expect(text(page, '.me__badge')).toBe('会员');
  });

  it('links to my coupons and the member card when the shop has marketing on', async () => {
    const { w } = setup(bootConfig({ modules: [...bootConfig().modules, marketingModule()] }));
    const page = render('packages/tenant/pages/me/index');
    page.instance.onLoad({});
    await tap(page, '.me__login');
    await flush(20);
    expect(texts(page, '.me__link')).toEqual(['我的订单›', '我的优惠券›', '会员卡›', '个人资料›']);
    await tap(page, '.me__link', 1);
    await tap(page, '.me__link', 2);
    expect(w.navigations()).toEqual([
      'navigateTo /packages/marketing/pages/mine/index',
      'navigateTo /packages/marketing/pages/member/index',
    ]);

    setup();
    const without = render('packages/tenant/pages/me/index');
    without.instance.onLoad({});
    await tap(without, '.me__login');
    await flush(20);
    expect(texts(without, '.me__link')).toEqual(['我的订单›', '个人资料›']);
  });
});
