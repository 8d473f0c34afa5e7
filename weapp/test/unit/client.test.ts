import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installWx, type Handler } from '../support/wx';

async function client(handler: Handler, session?: { token?: string; recover?: () => Promise<boolean> }) {
  const w = installWx({ appid: 'wxshop00000001', handler });
  vi.resetModules();
  const mod = await import('../../miniprogram/core/client');
  let token = session?.token;
  const api = mod.createClient({
    baseUrl: () => 'https://bff.test',
    appid: () => 'wxshop00000001',
    session: session && {
      accessToken: async () => token,
      recover: async () => {
        const ok = (await session.recover?.()) ?? false;
        if (ok) token = 'fresh-token';
        return ok;
      },
    },
  });
  return { w, api, mod };
}

describe('typed BFF client', () => {
  it('sends the appid, fills the query and parses the answer', async () => {
    const { w, api } = await client(() => ({ status: 200, body: { version: 1, sections: [] } }));
    const menu = await api.get('/api/v1/menu', { query: { appid: 'wxshop00000001' } });
    expect(menu.version).toBe(1);
    const req = w.requests[0]!;
    expect(req.url).toBe('https://bff.test/api/v1/menu?appid=wxshop00000001');
    expect(req.header['x-wechat-appid']).toBe('wxshop00000001');
    expect(req.header.authorization).toBeUndefined();
  });

  it('sends the token on private routes only', async () => {
    const { w, api } = await client(() => ({ status: 200, body: { id: 'u1' } }), { token: 'tok' });
    await api.get('/api/v1/me');
    await api.get('/api/v1/menu');
    expect(w.requests[0]!.header.authorization).toBe('Bearer tok');
    expect(w.requests[1]!.header.authorization).toBeUndefined();
  });

  it('refreshes once after a 401 and repeats the call', async () => {
    let n = 0;
    const { w, api } = await client(
      (req) =>
        req.header.authorization === 'Bearer fresh-token'
          ? { status: 200, body: { id: 'u1' } }
          : (n++, { status: 401, body: { code: 'UNAUTHENTICATED', message: 'expired', details: {} } }),
      { token: 'old', recover: async () => true },
    );
    expect((await api.get('/api/v1/me')).id).toBe('u1');
    expect(w.requests.map((r) => r.header.authorization)).toEqual(['Bearer old', 'Bearer fresh-token']);
    expect(n).toBe(1);
  });

  it('gives up with a zh-CN message when the session cannot recover', async () => {
    const { api } = await client(() => ({ status: 401, body: { code: 'SESSION_ENDED', message: 'session ended', details: {} } }), {
      token: 'old',
      recover: async () => false,
    });
    await expect(api.get('/api/v1/me')).rejects.toMatchObject({ status: 401, code: 'SESSION_ENDED', message: '登录已过期，请重新登录' });
  });

  it('maps error reasons and statuses to Chinese messages and keeps field errors', async () => {
    const { api } = await client(() => ({
      status: 400,
      body: { code: 'INVALID_ARGUMENT', message: 'code: is empty', details: { fields: [{ field: 'code', description: 'is empty' }] } },
    }));
    const err = await api.post('/api/v1/auth/wechat-login', { body: { code: '' } }).catch((e) => e);
    expect(err.message).toBe('填写的信息有误，请检查后重试');
    expect(err.fields).toEqual([{ field: 'code', description: 'is empty' }]);
    const { api: api2 } = await client(() => ({ status: 404, body: { code: 'APP_NOT_FOUND', message: 'no', details: {} } }));
    await expect(api2.get('/api/v1/app/config')).rejects.toMatchObject({ message: '该小程序尚未开通服务' });
  });

  it('retries a read after a network failure', async () => {
    let n = 0;
    const { w, api } = await client(() => (n++ === 0 ? 'fail' : { status: 200, body: { version: 2, sections: [] } }));
    expect((await api.get('/api/v1/menu')).version).toBe(2);
    expect(w.requests).toHaveLength(2);
  });

  it('does not repeat a write without an idempotency key', async () => {
    const { w, api } = await client(() => 'fail');
    await expect(api.post('/api/v1/auth/wechat-login', { body: { code: 'c' } })).rejects.toMatchObject({
      status: 0,
      message: '网络不给力，请检查网络后重试',
    });
    expect(w.requests).toHaveLength(1);
  });

  it('repeats a write with its idempotency key, the same key every time', async () => {
    let n = 0;
    const { w, api, mod } = await client(() => (n++ < 2 ? 'fail' : { status: 200, body: { tokens: {}, user: {}, created: false } }));
    const key = mod.newIdempotencyKey();
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await api.post('/api/v1/auth/dev-login', { body: { openid: 'x' }, idempotencyKey: key });
    expect(w.requests.map((r) => r.header['idempotency-key'])).toEqual([key, key, key]);
  });

  it('knows exactly the routes the OpenAPI document leaves public', async () => {
    const { mod } = await client(() => ({ status: 200 }));
    const doc = JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi.json'), 'utf8'));
    const publicInDoc = new Set<string>();
    for (const [path, ops] of Object.entries<Record<string, { security?: unknown[] }>>(doc.paths)) {
      if (Object.values(ops).some((op) => !op.security || op.security.length === 0)) publicInDoc.add(path);
    }
    expect([...mod.PUBLIC_PATHS].sort()).toEqual([...publicInDoc].sort());
  });
});
