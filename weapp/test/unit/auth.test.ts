import { installWx, type FakeRequest } from '../support/wx';

function tokens(n: number, ttl = 900) {
  return { access_token: `at-${n}`, access_expires_in: ttl, refresh_token: `rt-${n}`, refresh_expires_in: 86400 };
}
const user = { id: 'u1', display_name: '顾客', nickname: '', avatar_url: '', phone: '' };

async function setup(routes: Record<string, (req: FakeRequest) => { status: number; body?: unknown }>, ext: Record<string, unknown> = {}) {
  const w = installWx({
    appid: 'wxshop00000001',
    ext,
    loginCode: () => 'wx-code',
    handler: async (req) => {
      const r = routes[`${req.method} ${req.path}`];
      return r ? r(req) : { status: 404 };
    },
  });
  vi.resetModules();
  const auth = await import('../../miniprogram/core/auth');
  return { w, auth };
}

describe('session', () => {
  it('logs in with the wx.login code and keeps the tokens', async () => {
    const { w, auth } = await setup({
      'POST /api/v1/auth/wechat-login': () => ({ status: 200, body: { tokens: tokens(1), user, created: true } }),
    });
    await auth.login();
    expect(w.requests[0]!.data).toEqual({ code: 'wx-code' });
    expect(await auth.accessToken()).toBe('at-1');
    expect(auth.currentUser()?.id).toBe('u1');
  });

  it('uses the development login where ext.json asks for it', async () => {
    const { w, auth } = await setup(
      { 'POST /api/v1/auth/dev-login': () => ({ status: 200, body: { tokens: tokens(1), user, created: false } }) },
      { devLogin: true },
    );
    await auth.login();
    expect((w.requests[0]!.data as { openid: string }).openid).toMatch(/^dev-/);
    expect(w.calls.some((c) => c.api === 'login')).toBe(false);
  });

  it('refreshes an expiring token once for many callers', async () => {
    let refreshes = 0;
    const { auth } = await setup({
      'POST /api/v1/auth/wechat-login': () => ({ status: 200, body: { tokens: tokens(1, 30), user, created: false } }),
      'POST /api/v1/auth/refresh': (req) => {
        refreshes++;
        expect(req.data).toEqual({ refresh_token: 'rt-1' });
        return { status: 200, body: tokens(2) };
      },
    });
    await auth.login();
    const got = await Promise.all([auth.accessToken(), auth.accessToken(), auth.accessToken()]);
    expect(got).toEqual(['at-2', 'at-2', 'at-2']);
    expect(refreshes).toBe(1);
  });

  it('logs in again silently when the refresh token is refused', async () => {
    let logins = 0;
    const { auth } = await setup({
      'POST /api/v1/auth/wechat-login': () => ({ status: 200, body: { tokens: tokens(++logins, 30), user, created: false } }),
      'POST /api/v1/auth/refresh': () => ({ status: 401, body: { code: 'SESSION_ENDED', message: '', details: {} } }),
    });
    await auth.login();
    expect(await auth.accessToken()).toBe('at-2');
    expect(logins).toBe(2);
  });

  it('stays logged out after the customer logs out', async () => {
    let logins = 0;
    const { auth } = await setup({
      'POST /api/v1/auth/wechat-login': () => ({ status: 200, body: { tokens: tokens(++logins), user, created: false } }),
    });
    await auth.login();
    auth.markLoggedOut();
    expect(await auth.ensureSession()).toBeUndefined();
    expect(await auth.recover('at-1')).toBe(false);
    expect(logins).toBe(1);
    await auth.login();
    expect(auth.loggedOutByChoice()).toBe(false);
  });
});
