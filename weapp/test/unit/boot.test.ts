import { bootConfig, flush, installWx, type FakeResponse } from '../support/wx';

async function setup(answer: () => FakeResponse | 'fail', storage?: Map<string, unknown>) {
  const w = installWx({ appid: 'wxshop00000001', handler: () => answer() });
  if (storage) for (const [k, v] of storage) w.storage.set(k, v);
  vi.resetModules();
  const boot = await import('../../miniprogram/core/boot');
  return { w, boot };
}

const KEY = 'mm:wxshop00000001:boot';

describe('boot config', () => {
  it('loads from the BFF on first start and stores it with its ETag', async () => {
    const { w, boot } = await setup(() => ({ status: 200, body: bootConfig(), header: { ETag: 'W/"t1-7"' } }));
    const c = await boot.start();
    expect(c.display_name).toBe('示例餐厅');
    expect(w.requests[0]!.header['x-wechat-appid']).toBe('wxshop00000001');
    expect(w.storage.get(KEY)).toMatchObject({ etag: 'W/"t1-7"', config: { version: 7 } });
    expect(boot.isStale()).toBe(false);
  });

  it('starts offline from the stored config and revalidates it in the background', async () => {
    const stored = new Map([[KEY, { config: bootConfig(), etag: 'W/"t1-7"', fetchedAt: 0 }]]);
    const { w, boot } = await setup(() => 'fail', stored);
    const offline: boolean[] = [];
    boot.onConfigChange(() => offline.push(boot.isStale()));
    const c = await boot.start();
    expect(c.version).toBe(7);
    await flush(1500);
    // Told the pages once the revalidation failed: they show the offline notice.
    expect(boot.isStale()).toBe(true);
    expect(offline).toEqual([true]);
    expect(w.requests.length).toBeGreaterThan(0);
    expect(w.requests[0]!.header['if-none-match']).toBe('W/"t1-7"');
    expect(boot.config()?.version).toBe(7);
  });

  it('keeps the stored config on a 304', async () => {
    const stored = new Map([[KEY, { config: bootConfig(), etag: 'W/"t1-7"', fetchedAt: 0 }]]);
    const { boot } = await setup(() => ({ status: 304 }), stored);
    await boot.start();
    const seen: number[] = [];
    boot.onConfigChange((c) => seen.push(c.version));
    await boot.refresh(true);
    expect(boot.config()?.version).toBe(7);
    expect(boot.isStale()).toBe(false);
    expect(seen).toEqual([]);
  });

  it('tells listeners about a changed config: a new theme without a release', async () => {
    const stored = new Map([[KEY, { config: bootConfig(), etag: 'W/"t1-7"', fetchedAt: 0 }]]);
    const next = bootConfig({ version: 8, theme: { ...bootConfig().theme, primary_color: '#1E3A8A' } });
    const { boot } = await setup(() => ({ status: 200, body: next, header: { etag: 'W/"t1-8"' } }), stored);
    await boot.start();
    const seen: string[] = [];
    boot.onConfigChange((c) => seen.push(c.theme.primary_color));
    await boot.refresh(true);
    expect(seen).toEqual(['#1E3A8A']);
  });

  it('fails the first start without network or storage, and tries again on the next', async () => {
    let online = false;
    const { boot } = await setup(() => (online ? { status: 200, body: bootConfig(), header: {} } : 'fail'));
    await expect(boot.start()).rejects.toMatchObject({ status: 0 });
    online = true;
    await expect(boot.start()).resolves.toMatchObject({ version: 7 });
  });

  it('throttles revalidation unless forced', async () => {
    const { w, boot } = await setup(() => ({ status: 200, body: bootConfig(), header: { etag: 'x' } }));
    await boot.start();
    await boot.refresh();
    expect(w.requests).toHaveLength(1);
    await boot.refresh(true);
    expect(w.requests).toHaveLength(2);
  });
});

describe('ready()', () => {
  it('answers the latest config, not the first one loaded', async () => {
    let version = 7;
    const { boot } = await setup(() => ({ status: 200, body: bootConfig({ version }), header: { etag: `v${version}` } }));
    await boot.start();
    version = 8;
    await boot.refresh(true);
    expect((await boot.ready()).version).toBe(8);
  });
});
