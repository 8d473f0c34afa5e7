/**
 * How coupons read on screen: their terms in the customer's words ("满100减20", "8折 最高减10元",
 * "无门槛立减5元", "兑换券"), their face value and condition, validity, scope, and where a
 * template of the coupon centre or a held coupon stands. Pure: times are read at the UTC offset
 * given (the phone's, by default), so the same instant always reads the same.
 */
import { format, rate, strings, yuanShort } from '../../../core/locale/index';
import type { Coupon, Terms } from './marketing';

// Shared with the main package's promotions (the menu strikes prices through in the same words).
export { rate, yuanShort };

const C = strings.coupon;

/** The terms in a line: "满100减20", "无门槛立减5元", "8折 最高减10元", "满100享8折", "兑换券". */
export function rule(t: Terms): string {
  const threshold = yuanShort(t.threshold_fen);
  const amount = yuanShort(t.amount_off_fen);
  switch (t.kind) {
    case 'threshold':
      return format(C.thresholdOff, { threshold, amount });
    case 'amount_off':
      return t.threshold_fen > 0 ? format(C.thresholdOff, { threshold, amount }) : format(C.amountOff, { amount });
    case 'percent_off': {
      const r = rate(t.percent_off);
      const base = t.cap_fen > 0 ? format(C.percentCap, { rate: r, cap: yuanShort(t.cap_fen) }) : format(C.percent, { rate: r });
      return t.threshold_fen > 0 ? format(C.percentThreshold, { threshold }) + base : base;
    }
    case 'free_item':
      return t.threshold_fen > 0 ? format(C.freeItemThreshold, { threshold }) : C.freeItem;
    default:
      return t.title_zh;
  }
}

/** The big text of a coupon card: "¥20", "8折" or "兑换". */
export function face(t: Terms): string {
  if (t.kind === 'percent_off') return format(C.percent, { rate: rate(t.percent_off) });
  if (t.kind === 'free_item') return C.faceFree;
  return format(C.faceAmount, { amount: yuanShort(t.amount_off_fen) });
}

/** Under the face: "满100可用" or "无门槛". */
export function condition(t: Terms): string {
  return t.threshold_fen > 0 ? format(C.conditionThreshold, { threshold: yuanShort(t.threshold_fen) }) : C.conditionNone;
}

/** The phone's UTC offset at `ms`, in minutes (east positive). */
export function phoneOffset(ms: number): number {
  return -new Date(ms).getTimezoneOffset();
}

/** "2026.12.13 16:00" at `offset` minutes from UTC; empty for a missing or bad time. */
export function stamp(rfc3339: string | null | undefined, offset?: number): string {
  const ms = rfc3339 ? Date.parse(rfc3339) : NaN;
  if (Number.isNaN(ms)) return '';
  const d = new Date(ms + (offset ?? phoneOffset(ms)) * 60_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}.${p(d.getUTCMonth() + 1)}.${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

/** Scope and limits worth knowing before claiming or using: "限部分商品可用", "仅限点单使用". */
export function notes(t: Terms): string[] {
  const out: string[] = [];
  if (t.limited_scope) out.push(C.limitedScope);
  const only = t.modules.length === 1 ? C.onlyModule[t.modules[0]!] : undefined;
  if (only) out.push(only);
  return out;
}

/** What every coupon card shows of its terms. */
export interface TermsView {
  title: string;
  face: string;
  condition: string;
  rule: string;
  description: string;
  notes: string[];
}

export function termsView(t: Terms): TermsView {
  return { title: t.title_zh, face: face(t), condition: condition(t), rule: rule(t), description: t.description, notes: notes(t) };
}

/** How long a coupon of the template will last: days from claiming, or its fixed dates. */
export function templateValidity(t: Terms, now: number, offset?: number): string {
  if (t.valid_from && t.valid_until) {
    const from = Date.parse(t.valid_from);
    const until = stamp(t.valid_until, offset);
    return from > now ? format(C.validRange, { from: stamp(t.valid_from, offset), until }) : format(C.validUntil, { until });
  }
  return format(C.validDays, { days: t.valid_days });
}

// ---- The coupon centre ----

/** A template of the coupon centre with how many of it the customer holds (any state). */
export interface CentreEntry {
  terms: Terms;
  held: number;
}

/** open: claimable now; claimed: the customer holds their limit; soldOut: none left. */
export type CentreStatus = 'open' | 'claimed' | 'soldOut';

export interface TemplateView extends TermsView {
  id: string;
  validity: string;
  status: CentreStatus;
  /** The button: "立即领取", "再领一张", "已领取" or "已抢光". */
  action: string;
  /** "剩余 8 张"; empty once none are left (the button says so). */
  remaining: string;
  /** "已领 1 张" while more may be claimed; empty otherwise. */
  held: string;
  /** "每人限领 2 张" when one may hold more than one. */
  limit: string;
}

/** How many coupons of each template the customer holds, as the server counts for its limit. */
export function heldByTemplate(coupons: readonly Coupon[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of coupons) out.set(c.terms.id, (out.get(c.terms.id) ?? 0) + 1);
  return out;
}

export function centreStatus(e: CentreEntry): CentreStatus {
  if (e.held >= e.terms.per_customer_limit) return 'claimed';
  if (e.terms.remaining <= 0) return 'soldOut';
  return 'open';
}

export function templateView(e: CentreEntry, now: number, offset?: number): TemplateView {
  const T = strings.couponCentre;
  const t = e.terms;
  const status = centreStatus(e);
  const action = status === 'claimed' ? T.claimed : status === 'soldOut' ? T.soldOut : e.held > 0 ? T.claimAgain : T.claim;
  return {
    ...termsView(t),
    id: t.id,
    validity: templateValidity(t, now, offset),
    status,
    action,
    remaining: t.remaining > 0 ? format(T.remaining, { n: t.remaining }) : '',
    held: status === 'open' && e.held > 0 ? format(T.held, { n: e.held }) : '',
    limit: t.per_customer_limit > 1 ? format(C.perCustomer, { limit: t.per_customer_limit }) : '',
  };
}

/**
 * The centre after a claim of template `id` went through: one more held, one fewer left. Counted
 * here, not read from the claimed coupon: a coupon's terms carry none of the shop's counters (the
 * server leaves them out), so the `remaining` there is no count of what is left.
 */
export function afterClaim(entries: readonly CentreEntry[], id: string): CentreEntry[] {
  return entries.map((e) =>
    e.terms.id === id ? { terms: { ...e.terms, remaining: Math.max(0, e.terms.remaining - 1) }, held: e.held + 1 } : e,
  );
}

/** Refusals after which the template is no longer the customer's to claim: it leaves the list. */
const GONE = new Set(['COUPON_TEMPLATE_NOT_FOUND', 'COUPON_TEMPLATE_STOPPED', 'COUPON_NOT_CLAIMABLE', 'COUPON_TEMPLATE_EXPIRED']);

/**
 * The centre after the server refused a claim with `code`: what the refusal says is taken as the
 * truth (none left, the limit held, the template gone), so the button stops offering it.
 */
export function afterRefusal(entries: readonly CentreEntry[], id: string, code: string): CentreEntry[] {
  if (GONE.has(code)) return entries.filter((e) => e.terms.id !== id);
  return entries.map((e) => {
    if (e.terms.id !== id) return e;
    if (code === 'COUPONS_SOLD_OUT') return { ...e, terms: { ...e.terms, remaining: 0 } };
    if (code === 'COUPON_LIMIT_REACHED') return { ...e, held: Math.max(e.held, e.terms.per_customer_limit) };
    return e;
  });
}

// ---- My coupons ----

export type Tab = 'available' | 'used' | 'expired';

export interface CouponView extends TermsView {
  id: string;
  state: string;
  validity: string;
  /** Said of a coupon that cannot be used now: "待支付订单使用中", "已使用", "已过期". */
  stateText: string;
  /** Usable now (not held by an order, within its dates). */
  usable: boolean;
  /** Usable now at ordering's checkout (the "去使用" button). */
  forOrdering: boolean;
}

/** The tab a coupon belongs in: one past its end is expired whatever the server last wrote. */
export function tabOf(c: Coupon, now: number): Tab {
  if (c.state === 'used') return 'used';
  if (c.state === 'expired' || Date.parse(c.valid_until) <= now) return 'expired';
  return 'available';
}

export function couponView(c: Coupon, now: number, offset?: number): CouponView {
  const M = strings.myCoupons;
  const tab = tabOf(c, now);
  const until = stamp(c.valid_until, offset);
  const later = Date.parse(c.valid_from) > now;
  const validity =
    tab === 'expired'
      ? format(C.expiredAt, { until })
      : later
        ? format(C.validLater, { from: stamp(c.valid_from, offset), until })
        : format(C.validUntil, { until });
  const usable = tab === 'available' && c.state === 'available' && !later;
  return {
    ...termsView(c.terms),
    id: c.id,
    state: c.state,
    validity,
    stateText: c.state === 'locked' && tab === 'available' ? M.locked : tab === 'available' ? '' : (M.states[tab] ?? ''),
    usable,
    forOrdering: usable && (c.terms.modules.length === 0 || c.terms.modules.includes('ordering')),
  };
}

/**
 * The coupons by tab: usable ones first and the soonest to end first (the one to use next);
 * used and expired ones as the server lists them, newest first.
 */
export function byTab(coupons: readonly Coupon[], now: number, offset?: number): Record<Tab, CouponView[]> {
  const out: Record<Tab, CouponView[]> = { available: [], used: [], expired: [] };
  const available = coupons.filter((c) => tabOf(c, now) === 'available');
  const rank = (c: Coupon) => (c.state === 'available' && Date.parse(c.valid_from) <= now ? 0 : 1);
  available.sort((a, b) => rank(a) - rank(b) || Date.parse(a.valid_until) - Date.parse(b.valid_until));
  out.available = available.map((c) => couponView(c, now, offset));
  for (const c of coupons) {
    const tab = tabOf(c, now);
    if (tab !== 'available') out[tab].push(couponView(c, now, offset));
  }
  return out;
}
