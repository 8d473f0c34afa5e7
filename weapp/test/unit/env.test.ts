import { installWx } from '../support/wx';

async function resolve(opts: Parameters<typeof installWx>[0]) {
  installWx(opts);
  vi.resetModules();
  const { resolveEnv } = await import('../../miniprogram/core/env');
  return resolveEnv();
}

describe('tenant resolution', () => {
  it('uses the ext.json appid of a platform template over the account appid', async () => {
    const env = await resolve({ appid: 'wxtemplate0000', ext: { appid: 'wxmerchant1234' } });
    expect(env.appid).toBe('wxmerchant1234');
    expect(env.appidSource).toBe('ext');
  });

  it('falls back to the mini-program’s own appid', async () => {
    const env = await resolve({ appid: 'wxownapp123456', ext: {} });
    expect(env).toMatchObject({ appid: 'wxownapp123456', appidSource: 'account' });
  });

  it('ignores an ext appid that is not an appid', async () => {
    const env = await resolve({ appid: 'wxownapp123456', ext: { appid: '../../etc' } });
    expect(env.appid).toBe('wxownapp123456');
  });

  it('takes an http BFF from ext.json only while developing', async () => {
    expect((await resolve({ envVersion: 'develop', ext: { apiBase: 'http://127.0.0.1:9/' } })).apiBase).toBe('http://127.0.0.1:9');
    expect((await resolve({ envVersion: 'release', ext: { apiBase: 'http://evil.example' } })).apiBase).toMatch(/^https:\/\//);
    expect((await resolve({ envVersion: 'trial', ext: { apiBase: 'https://bff.shop.example' } })).apiBase).toBe('https://bff.shop.example');
  });

  it('never uses the development login in a release build', async () => {
    expect((await resolve({ envVersion: 'develop', ext: { devLogin: true } })).devLogin).toBe(true);
    expect((await resolve({ envVersion: 'release', ext: { devLogin: true } })).devLogin).toBe(false);
  });
});
