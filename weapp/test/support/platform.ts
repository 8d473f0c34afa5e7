/**
 * The real platform for contract tests: the server binary (scripts/server.mjs), the WeChat fake's
 * control routes, a "phone" (mocked wx over Node's fetch, fresh core modules), and the shop's
 * admin over gRPC with `buf curl` (the same reflection-driven client the README shows), for what
 * only staff can do: open the shop, change its theme, switch modules, create coupon templates and
 * promotions, confirm a payment at the counter, adjust a customer's points.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { installWx, type WxMock, type WxMockOptions } from './wx';
// @ts-expect-error plain ESM script without types
import { DEMO_APPID, startServer } from '../../scripts/server.mjs';

export { DEMO_APPID };
export const DEMO_ADMIN = { login: 'admin', password: 'minimodules-demo-1' };

export interface Server {
  http: string;
  /** gRPC of every service, unless `grpcByModule` names the module's own address (a mesh). */
  grpc: string;
  grpcByModule?: Record<string, string>;
  wechatFake: string;
  stop(): Promise<void>;
}

/**
 * The server binary started for this file, or, when `MM_CONTRACT_SERVER` describes one already
 * running (JSON: http, grpc, grpcByModule, wechatFake; the test command's mesh run), that one.
 */
export async function start(): Promise<Server> {
  const running = process.env.MM_CONTRACT_SERVER;
  if (running) {
    return { ...(JSON.parse(running) as Omit<Server, 'stop'>), stop: async () => {} };
  }
  return startServer();
}

/** POSTs to one of the WeChat fake's control routes and returns the code it mints. */
export async function fakeCode(server: Server, path: string, body: unknown): Promise<string> {
  const res = await fetch(`${server.wechatFake}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return ((await res.json()) as { code: string }).code;
}

/** A phone opening the mini-program: fresh storage, fresh core modules. */
export async function phone(
  server: Server,
  opts: { appid?: string; devLogin?: boolean; openid?: string; payment?: WxMockOptions['payment'] } = {},
) {
  const appid = opts.appid ?? DEMO_APPID;
  const w: WxMock = installWx({
    appid: 'wxtemplate0000',
    envVersion: 'develop',
    fetch: true,
    ext: { appid, apiBase: server.http, devLogin: opts.devLogin ?? false },
    payment: opts.payment,
    loginCode: () => fakeCode(server, '/__fake/login-codes', { appid, openid: opts.openid ?? `o-${Math.random().toString(36).slice(2)}` }),
  });
  vi.resetModules();
  return {
    w,
    boot: await import('../../miniprogram/core/boot'),
    auth: await import('../../miniprogram/core/auth'),
    modules: await import('../../miniprogram/core/modules'),
    identity: await import('../../miniprogram/services/identity'),
    catalog: await import('../../miniprogram/services/catalog'),
    promotions: await import('../../miniprogram/services/promotions'),
    ordering: await import('../../miniprogram/packages/ordering/services/ordering'),
    cart: await import('../../miniprogram/packages/ordering/services/cart'),
    discounts: await import('../../miniprogram/packages/ordering/services/discounts'),
    orderView: await import('../../miniprogram/packages/ordering/services/order-view'),
    marketing: await import('../../miniprogram/packages/marketing/services/marketing'),
    coupons: await import('../../miniprogram/packages/marketing/services/coupon-view'),
    members: await import('../../miniprogram/packages/marketing/services/member-view'),
    client: await import('../../miniprogram/core/client'),
    booking: await import('../../miniprogram/packages/booking/services/booking'),
    schedule: await import('../../miniprogram/packages/booking/services/schedule'),
    view: await import('../../miniprogram/packages/booking/services/booking-view'),
    deposit: await import('../../miniprogram/packages/booking/services/deposit'),
  };
}

const BUF = process.env.BUF ?? join(__dirname, '..', '..', '..', 'tools', 'node_modules', '.bin', 'buf');

/** Calls an RPC with `buf curl` (gRPC, server reflection); returns the JSON answer. */
export function rpc(server: Server, method: string, body: unknown, token?: string): any {
  if (!existsSync(BUF)) throw new Error(`no buf CLI at ${BUF}: run \`npm install --prefix tools\` at the repository root`);
  const args = ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '-d', JSON.stringify(body)];
  if (token) args.push('-H', `authorization: Bearer ${token}`);
  // minimodules.<module>.v1.Service/Method: in a mesh, the process hosting that module.
  const module = method.split('.')[1] ?? '';
  args.push(`${server.grpcByModule?.[module] ?? server.grpc}/${method}`);
  try {
    return JSON.parse(execFileSync(BUF, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) || '{}');
  } catch (e) {
    throw new Error(`${method} failed: ${(e as { stderr?: string }).stderr ?? e}`, { cause: e });
  }
}

/** The demo shop's admin: a token, and the few writes the tests need. */
export function admin(server: Server, tenantId: string) {
  const tenant = `tenants/${tenantId}`;
  const login = rpc(server, 'minimodules.identity.v1.AuthService/PasswordLogin', {
    tenant,
    login_name: DEMO_ADMIN.login,
    password: DEMO_ADMIN.password,
  });
  const token: string = login.tokens.accessToken ?? login.tokens.access_token;
  return {
    /** Merges `change` into a module's config. */
    configure(module: string, change: Record<string, unknown>) {
      const name = `${tenant}/modules/${module}/config`;
      const current = rpc(server, 'minimodules.tenant.v1.TenantService/GetModuleConfig', { name }, token).config;
      rpc(
        server,
        'minimodules.tenant.v1.TenantService/UpdateModuleConfig',
        { config: { name, config: { ...current.config, ...change } } },
        token,
      );
    },
    brand(primaryColor: string) {
      rpc(
        server,
        'minimodules.tenant.v1.TenantService/UpdateBranding',
        { branding: { name: `${tenant}/branding`, primary_color: primaryColor }, update_mask: 'primaryColor' },
        token,
      );
    },
    disable(module: string) {
      rpc(server, 'minimodules.tenant.v1.TenantService/DisableModule', { name: `${tenant}/modules/${module}` }, token);
    },
    /** The shop's WeChat Pay merchant account, one for every module that takes money (the keys
     * are the test fixtures mm-wechatpay's tests use). */
    paymentAccount(account: Record<string, unknown>, merchantPrivateKeyPem: string, apiv3Key: string) {
      rpc(
        server,
        'minimodules.tenant.v1.TenantService/UpdatePaymentAccount',
        {
          payment_account: { name: `${tenant}/paymentAccount`, ...account },
          merchant_private_key_pem: merchantPrivateKeyPem,
          apiv3_key: apiv3Key,
        },
        token,
      );
    },
    /** A bookable service; returns its id. */
    createService(service: { name: string; minutes: number; priceFen: number; depositFen?: number; capacity?: number }): string {
      const r = rpc(
        server,
        'minimodules.booking.v1.BookingService/CreateService',
        {
          parent: tenant,
          service: {
            display_name: service.name,
            duration_minutes: service.minutes,
            price_fen: service.priceFen,
            deposit_fen: service.depositFen ?? 0,
            capacity: service.capacity ?? 1,
            active: true,
          },
        },
        token,
      );
      return String(r.service.name).split('/').pop()!;
    },
    /**
     * A staff member (or a room) who works every day from `from` to `to` (local "HH:MM"), on the
     * services with ids `services` (all when empty); returns the id.
     */
    createStaff(name: string, opts: { from?: string; to?: string; room?: boolean; services?: string[]; active?: boolean } = {}): string {
      const window = { start: opts.from ?? '00:00', end: opts.to ?? '24:00' };
      const weekly_hours = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, windows: [window] }));
      const staff = {
        display_name: name,
        kind: opts.room ? 'STAFF_KIND_ROOM' : 'STAFF_KIND_PERSON',
        services: (opts.services ?? []).map((id) => `${tenant}/services/${id}`),
        weekly_hours,
        active: opts.active ?? true,
      };
      const r = rpc(server, 'minimodules.booking.v1.BookingService/CreateStaff', { parent: tenant, staff }, token);
      return String(r.staff.name).split('/').pop()!;
    },
    /**
     * A coupon template (the contract's CouponTemplate in its JSON form, enums by name, e.g.
     * `kind: 'COUPON_KIND_THRESHOLD'`); returns its id.
     */
    createCouponTemplate(template: Record<string, unknown>): string {
      const r = rpc(server, 'minimodules.marketing.v1.CouponService/CreateCouponTemplate', { parent: tenant, template }, token);
      return String(r.template.name).split('/').pop()!;
    },
    /**
     * A promotion (the contract's Promotion in its JSON form, enums by name, e.g.
     * `kind: 'PROMOTION_KIND_PERCENT_OFF'`; products as bare ids); returns its id.
     */
    createPromotion(promotion: Record<string, unknown> & { products?: string[]; categories?: string[] }): string {
      const r = rpc(
        server,
        'minimodules.marketing.v1.PromotionService/CreatePromotion',
        {
          parent: tenant,
          promotion: {
            ...promotion,
            products: (promotion.products ?? []).map((id) => `${tenant}/products/${id}`),
            categories: (promotion.categories ?? []).map((id) => `${tenant}/categories/${id}`),
          },
        },
        token,
      );
      return String(r.promotion.name).split('/').pop()!;
    },
    /** Stops a promotion (final). */
    stopPromotion(id: string) {
      rpc(
        server,
        'minimodules.marketing.v1.PromotionService/UpdatePromotion',
        { promotion: { name: `${tenant}/promotions/${id}`, state: 'PROMOTION_STATE_STOPPED' }, update_mask: 'state' },
        token,
      );
    },
    enable(module: string) {
      rpc(server, 'minimodules.tenant.v1.TenantService/EnableModule', { name: `${tenant}/modules/${module}` }, token);
    },
    /** Records that the customer paid order `orderId` at the counter, as the till does. */
    confirmCounterPayment(orderId: string) {
      rpc(server, 'minimodules.ordering.v1.OrderService/ConfirmCounterPayment', { name: `${tenant}/orders/${orderId}` }, token);
    },
    /** Adds (or, negative, takes) points of the customer with user id `userId`, with a reason. */
    adjustPoints(userId: string, delta: number, reason: string) {
      rpc(
        server,
        'minimodules.marketing.v1.MemberService/AdjustPoints',
        { member: `${tenant}/members/${userId}`, delta, reason, request_id: randomUUID() },
        token,
      );
    },
  };
}
