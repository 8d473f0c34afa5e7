/**
 * The marketing module's BFF calls (the coupon centre, claiming, the customer's coupons, the
 * member card and its points history), its public config, the customer-readable refusal of a
 * claim, and the login prompt its pages share.
 */
import type { components } from '../../../core/api/schema';
import { api } from '../../../core/api';
import * as auth from '../../../core/auth';
import type { BootConfig } from '../../../core/boot';
import { ApiError, describe } from '../../../core/errors';
import { format, strings } from '../../../core/locale/index';

/** A template's terms: what the coupon centre lists, and what every coupon of it carries. */
export type Terms = components['schemas']['TermsDto'];
export type Coupon = components['schemas']['CouponDto'];
export type Centre = components['schemas']['CentreDto'];
export type CouponsPage = components['schemas']['CouponsPageDto'];
/** Where a coupon stands: "locked" is held by an unpaid order (back if it is cancelled). */
export type CouponState = 'available' | 'locked' | 'used' | 'expired';
/** The customer's points, lifetime spend and points, and their level and the next one. */
export type Member = components['schemas']['MemberDto'];
export type Level = components['schemas']['LevelDto'];
/**
 * One change of the customer's points; `kind` is "ORDER_PAID" (earned), "ORDER_REFUNDED" (earned
 * points taken back), "ORDER_SPENT" (paid with at checkout), "ORDER_RETURNED" (those given back
 * when the order is called off), "BOOKING_COMPLETED" or "ADJUSTED" (by the shop).
 */
export type PointsEntry = components['schemas']['PointsEntryDto'];
export type PointsPage = components['schemas']['PointsPageDto'];
/** What member levels are reached by: lifetime spend in fen, or lifetime points. */
export type LevelsBy = 'spend' | 'points';

/** Templates per page of the coupon centre. */
const CENTRE_PAGE = 50;

/** A page of the coupon centre: the templates the customer may claim, newest first. */
export function listCentre(pageToken?: string): Promise<Centre> {
  return api.get('/api/v1/marketing/coupon-templates', { query: { page_size: CENTRE_PAGE, page_token: pageToken ?? null } });
}

/**
 * Claims one coupon of a template. `idempotencyKey` is new for every tap (each tap asks for one
 * more coupon) and the same for the client's own retries of that tap, so a lost answer never
 * hands out two.
 */
export function claim(templateId: string, idempotencyKey: string): Promise<Coupon> {
  return api.post('/api/v1/marketing/coupon-templates/{id}/claim', { path: { id: templateId }, idempotencyKey });
}

/** A page of the customer's coupons, newest first; all states when `state` is absent. */
export function listCoupons(state?: CouponState, pageToken?: string): Promise<CouponsPage> {
  return api.get('/api/v1/marketing/coupons', { query: { state: state ?? null, page_size: 100, page_token: pageToken ?? null } });
}

/** At most this many pages of coupons (100 each) are read. */
const MAX_PAGES = 10;

/**
 * Every coupon the customer holds, in every state. A customer holds a few dozen at most, and
 * both pages need them all: my coupons splits them into its tabs (a coupon an unpaid order
 * holds shows under 可用), and the coupon centre counts what is held of each template against
 * its per-customer limit, as the server does.
 */
export async function listAllCoupons(): Promise<Coupon[]> {
  const out: Coupon[] = [];
  let token: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await listCoupons(undefined, token);
    out.push(...page.coupons);
    token = page.next_page_token ?? undefined;
    if (!token) break;
  }
  return out;
}

/** The customer's member card (zero points and no level for one who never earned any). */
export function getMember(): Promise<Member> {
  return api.get('/api/v1/marketing/member');
}

/** Entries per page of the points history. */
const POINTS_PAGE = 20;

/** A page of the customer's points history, newest first. */
export function listPoints(pageToken?: string): Promise<PointsPage> {
  return api.get('/api/v1/marketing/member/points', { query: { page_size: POINTS_PAGE, page_token: pageToken ?? null } });
}

/** The marketing module's public config, with the spec's defaults for anything missing. */
export interface MarketingConfig {
  /** Points for every whole yuan paid; 0 when the shop gives none. */
  pointsPerYuan: number;
  levelsBy: LevelsBy;
}

export function marketingConfig(config: BootConfig | undefined): MarketingConfig {
  const c: Record<string, unknown> = config?.modules.find((m) => m.id === 'marketing')?.config ?? {};
  const perYuan = c.points_per_yuan;
  return {
    pointsPerYuan: typeof perYuan === 'number' && Number.isInteger(perYuan) && perYuan >= 0 ? perYuan : 1,
    levelsBy: c.levels_by === 'points' ? 'points' : 'spend',
  };
}

/** The text for a failed marketing call: the limit named when the answer gives it. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    const text = strings.coupon.errors[e.code];
    const limit = e.metadata.limit;
    if (text && limit) return format(text, { limit });
  }
  return describe(e);
}

/** Shows a refusal the customer must read, and waits for the tap. */
export function alert(content: string): Promise<void> {
  return new Promise((resolve) => {
    wx.showModal({ content, showCancel: false, success: () => resolve(), fail: () => resolve() });
  });
}

/** A page that shows a login prompt while no customer is logged in (`loggedIn` in its data). */
interface LoginPage {
  setData(data: { loggedIn: boolean }): void;
}

/** True when a customer is logged in, silently logging in when possible; says so on the page. */
export async function hasCustomer(page: LoginPage): Promise<boolean> {
  const user = await auth.ensureSession().catch(() => undefined);
  page.setData({ loggedIn: !!user });
  return !!user;
}

/** The login prompt's button: logs in, then `then` (the page's reload). */
export async function logIn(page: LoginPage, then: () => Promise<void>): Promise<void> {
  try {
    await auth.login();
    page.setData({ loggedIn: true });
    await then();
  } catch (e) {
    wx.showToast({ title: describeError(e), icon: 'none' });
  }
}
