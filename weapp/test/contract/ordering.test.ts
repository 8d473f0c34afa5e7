// The ordering flow and live shop changes against the real BFF: the demo restaurant's menu, a
// quote, an order placed twice with one idempotency key, counter payment, the order list and
// detail, cancelling; WeChat Pay's prepay parameters from the fake WeChat Pay; and a theme change
// and a module switch reaching an open app without a release.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { admin, DEMO_APPID, phone as openPhone, start, type Server } from '../support/platform';

let server: Server;
let shop: ReturnType<typeof admin>;

beforeAll(async () => {
  server = await start();
  const { boot } = await openPhone(server);
  const config = await boot.start();
  shop = admin(server, config.tenant_id);
  // Open around the clock, so the test does not depend on the hour it runs.
  shop.configure('ordering', { opening_hours: [], payment_methods: ['counter', 'wechat_pay'], fulfilment_modes: ['dine_in', 'takeaway'] });
});

afterAll(async () => {
  await server?.stop();
});

const phone = (opts?: Parameters<typeof openPhone>[1]) => openPhone(server, opts);

describe('ordering against the real BFF', () => {
  it('quotes, places one order for one key, pays at the counter, lists, shows and cancels it', async () => {
    const p = await phone();
    await p.auth.login();
    const menu = await p.catalog.getMenu();
    const product = menu.sections.flatMap((s) => s.products).find((x) => x.skus.some((k) => k.available))!;
    const sku = product.skus.find((k) => k.available)!;
    const cart = p.cart.add(p.cart.EMPTY, product, sku, 2);
    const fulfilment = { mode: 'dine_in', table: 'A12', address: null };

    const quote = await p.ordering.quote(cart, fulfilment);
    expect(quote.problems).toEqual([]);
    expect(quote.orderable).toBe(true);
    expect(quote.amounts.items_fen).toBe(sku.price_fen * 2);

    const key = p.client.newIdempotencyKey();
    const input = { cart, fulfilment, remark: '少辣', expectedTotalFen: quote.amounts.total_fen, idempotencyKey: key };
    const order = await p.ordering.placeOrder(input);
    const again = await p.ordering.placeOrder(input);
    expect(again.id).toBe(order.id);
    expect(order.status).toBe('pending_payment');
    expect(order.fulfilment.table).toBe('A12');
    expect(order.order_number).toMatch(/^\d{8}-\d{4}$/);

    const paid = await p.ordering.payOrder(order.id, 'counter');
    expect(paid.outcome).toBe('counter');
    expect(paid.order.payment_method).toBe('counter');

    const page = await p.ordering.listOrders();
    expect(page.orders.map((o) => o.id)).toContain(order.id);
    expect((await p.ordering.getOrder(order.id)).remark).toBe('少辣');

    const cancelled = await p.ordering.cancelOrder(order.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancel_reason).toBe('customer');
  });

  it('refuses a changed price with a message the customer can read', async () => {
    const p = await phone();
    await p.auth.login();
    const menu = await p.catalog.getMenu();
    const product = menu.sections.flatMap((s) => s.products).find((x) => x.skus.some((k) => k.available))!;
    const sku = product.skus.find((k) => k.available)!;
    const cart = p.cart.add(p.cart.EMPTY, product, sku, 1);
    const err = await p.ordering
      .placeOrder({
        cart,
        fulfilment: { mode: 'takeaway', table: null, address: null },
        remark: '',
        expectedTotalFen: sku.price_fen + 1,
        idempotencyKey: p.client.newIdempotencyKey(),
      })
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'PRICE_CHANGED', message: '价格有变动，请确认后重新提交' });
  });

  it('another customer cannot see the order', async () => {
    const a = await phone();
    await a.auth.login();
    const menu = await a.catalog.getMenu();
    const product = menu.sections.flatMap((s) => s.products).find((x) => x.skus.some((k) => k.available))!;
    const cart = a.cart.add(
      a.cart.EMPTY,
      product,
      product.skus.find((k) => k.available)!,
      1,
    );
    const q = await a.ordering.quote(cart, { mode: 'takeaway', table: null, address: null });
    const order = await a.ordering.placeOrder({
      cart,
      fulfilment: { mode: 'takeaway', table: null, address: null },
      remark: '',
      expectedTotalFen: q.amounts.total_fen,
      idempotencyKey: a.client.newIdempotencyKey(),
    });
    const b = await phone();
    await b.auth.login();
    await expect(b.ordering.getOrder(order.id)).rejects.toMatchObject({ status: 404 });
  });

  it('shows a new theme and hides a switched-off module without a release', async () => {
    const p = await phone();
    const before = await p.boot.start();
    const seen: string[] = [];
    p.boot.onConfigChange((c) => seen.push(c.theme.primary_color));

    shop.brand('#1E3A8A');
    await p.boot.refresh(true);
    expect(seen).toEqual(['#1E3A8A']);
    expect(p.boot.config()!.version).toBeGreaterThan(before.version);

    shop.disable('ordering');
    try {
      await p.boot.refresh(true);
      expect(p.modules.visibleTabs(p.boot.config()).map((t) => t.module)).not.toContain('ordering');
      expect(await p.modules.requireModule('ordering')).toBe(false);
      expect(p.w.navigations()).toEqual(['redirectTo /pages/unavailable/index?module=ordering']);
    } finally {
      shop.enable('ordering');
    }
  });
});

describe('WeChat Pay against the fake WeChat Pay', () => {
  it('gets prepay parameters for wx.requestPayment and sees the order paid once the customer pays', async () => {
    const fixtures = join(__dirname, '..', '..', '..', 'crates', 'wechatpay', 'tests', 'fixtures');
    const mchid = '1900000109';
    const serial = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
    const apiv3 = '0123456789abcdef0123456789ABCDEF';
    const reg = (await (
      await fetch(`${server.wechatFake}/__fake/pay/merchants`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          mchid,
          merchant_serial_no: serial,
          merchant_public_key_pem: readFileSync(join(fixtures, 'test_key_public.pem'), 'utf8'),
          apiv3_key: apiv3,
          appids: [DEMO_APPID],
        }),
      })
    ).json()) as { platform_public_key_id: string; platform_public_key_pem: string };
    shop.paymentAccount(
      {
        mchid,
        merchant_serial_no: serial,
        platform_key_id: reg.platform_public_key_id,
        platform_public_key_pem: reg.platform_public_key_pem,
        appid: DEMO_APPID,
      },
      readFileSync(join(fixtures, 'test_key_pkcs8.pem'), 'utf8'),
      apiv3,
    );

    let orderId = '';
    const p = await phone({
      // The customer confirms in WeChat's sheet: the fake WeChat Pay records the payment.
      payment: async (args: { package: string; signType: string; paySign: string }) => {
        expect(args.package).toMatch(/^prepay_id=/);
        expect(args.signType).toBe('RSA');
        expect(args.paySign).toBeTruthy();
        const res = await fetch(`${server.wechatFake}/__fake/pay/transactions/${orderId.replace(/-/g, '')}/pay`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ mchid }),
        });
        return res.ok ? 'paid' : 'fail';
      },
    });
    await p.auth.login();
    const menu = await p.catalog.getMenu();
    const product = menu.sections.flatMap((s) => s.products).find((x) => x.skus.some((k) => k.available))!;
    const cart = p.cart.add(
      p.cart.EMPTY,
      product,
      product.skus.find((k) => k.available)!,
      1,
    );
    const fulfilment = { mode: 'takeaway', table: null, address: null };
    const q = await p.ordering.quote(cart, fulfilment);
    const order = await p.ordering.placeOrder({
      cart,
      fulfilment,
      remark: '',
      expectedTotalFen: q.amounts.total_fen,
      idempotencyKey: p.client.newIdempotencyKey(),
    });
    orderId = order.id;
    const r = await p.ordering.payOrder(order.id, 'wechat_pay');
    expect(r.outcome).toBe('paid');
    expect(r.order.status).toBe('paid');
    expect(r.order.payment_method).toBe('wechat_pay');
  });
});
