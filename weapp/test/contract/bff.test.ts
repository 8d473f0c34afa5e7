// The typed client against the real BFF: the server binary in dev mode (SQLite in a temp dir, the
// demo restaurant, the local WeChat fake), driven through the same core modules the pages use,
// with wx.request over Node's fetch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_APPID, fakeCode, phone as openPhone, start, type Server } from '../support/platform';

let server: Server;

beforeAll(async () => {
  server = await start();
});

afterAll(async () => {
  await server?.stop();
});

const fake = (path: string, body: unknown) => fakeCode(server, path, body);
const phone = (opts?: Parameters<typeof openPhone>[1]) => openPhone(server, opts);

describe('contract with the real BFF', () => {
  it('serves the OpenAPI document the client types were generated from', async () => {
    const live = await (await fetch(`${server.http}/api/openapi.json`)).json();
    const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi.json'), 'utf8'));
    // On failure: the BFF changed; run `npm run api:update` in weapp/ and commit openapi.json.
    expect(live).toEqual(committed);
  });

  it('boots the demo restaurant by appid and revalidates with its ETag', async () => {
    const { w, boot } = await phone();
    const config = await boot.start();
    expect(config.display_name).toBe('小模块示例餐厅');
    expect(config.modules.map((m) => m.id)).toEqual(expect.arrayContaining(['identity', 'catalog', 'ordering']));
    expect(config.tabs.length).toBeGreaterThan(0);
    expect(config.theme.primary_color).toMatch(/^#[0-9A-Fa-f]{6}$/);
    await boot.refresh(true);
    const last = w.requests.at(-1)!;
    expect(last.header['if-none-match']).toBeTruthy();
    expect(boot.config()?.version).toBe(config.version);
  });

  it('says in Chinese that an unknown mini-program is not set up', async () => {
    const { boot } = await phone({ appid: 'wx00000000000000ff' });
    await expect(boot.start()).rejects.toMatchObject({ status: 404, code: 'APP_NOT_FOUND', message: '该小程序尚未开通服务' });
  });

  it('logs in through WeChat (the fake), binds a phone, edits the profile and reads it back', async () => {
    const { auth, identity } = await phone({ openid: 'contract-customer' });
    const user = await auth.login();
    expect(user.id).toBeTruthy();
    const me = await identity.getMe();
    expect(me.id).toBe(user.id);

    const code = await fake('/__fake/phone-codes', { appid: DEMO_APPID, phone: '13800138000' });
    expect((await identity.bindPhone(code)).phone).toContain('13800138000');
    expect((await identity.updateProfile({ nickname: '合同测试' })).nickname).toBe('合同测试');
  });

  it('refreshes an expired access token silently, and a spent refresh token is refused', async () => {
    const { w, auth, identity } = await phone();
    await auth.login();
    const key = `mm:${DEMO_APPID}:session`;
    const before = w.storage.get(key) as { accessToken: string; refreshToken: string; accessExpiresAt: number };
    w.storage.set(key, { ...before, accessExpiresAt: 0 });
    await identity.getMe();
    const after = w.storage.get(key) as { accessToken: string; refreshToken: string };
    expect(after.refreshToken).not.toBe(before.refreshToken);

    const reuse = await fetch(`${server.http}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: before.refreshToken }),
    });
    expect(reuse.status).toBe(401);
  });

  it('logs out: the server ends the session and the app stays logged out', async () => {
    const { w, auth, identity } = await phone();
    await auth.login();
    const token = (w.storage.get(`mm:${DEMO_APPID}:session`) as { accessToken: string }).accessToken;
    await identity.logout();
    expect(auth.currentUser()).toBeUndefined();
    const res = await fetch(`${server.http}/api/v1/me`, { headers: { authorization: `Bearer ${token}`, 'X-WeChat-Appid': DEMO_APPID } });
    expect(res.status).toBe(401);
  });

  it('logs in with the development login in dev mode', async () => {
    const { w, auth } = await phone({ devLogin: true });
    const user = await auth.login();
    expect(user.id).toBeTruthy();
    expect(w.calls.some((c) => c.api === 'login')).toBe(false);
  });

  it('reads the published menu', async () => {
    const { catalog } = await phone();
    const menu = await catalog.getMenu();
    expect(typeof menu.version).toBe('number');
    expect(Array.isArray(menu.sections)).toBe(true);
  });
});
