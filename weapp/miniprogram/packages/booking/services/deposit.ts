/**
 * Coupons on a booking's deposit (a shop with marketing on): which of the customer's coupons a
 * booking takes, what each would take off the deposit, the coupon row and its picker before the
 * hold, the choice as the hold's body carries it, and the deposit as it reads once held (the
 * deposit before discounts, the discount lines, what is left to pay, or that a coupon paid it
 * all). Pure, no wx.
 *
 * The rule is the server's (marketing's `domain::discount` over one line, the deposit): a coupon
 * counts for booking when its template names no module or names "booking" and it has no product
 * or category scope (a deposit is no product: a scoped coupon never applies, nor a free-item one);
 * its threshold is measured against the deposit; an amount off takes at most the deposit, a
 * percentage rounds down and stops at its cap. Of several, the server takes the one that takes
 * most off (of equal ones, the one to expire first). What the picker shows before the hold is
 * this estimate; what the hold answers is what counts.
 */
import type { components } from '../../../core/api/schema';
import { format, strings, yuan, yuanShort } from '../../../core/locale/index';
import type { Reservation } from './booking';

export type Coupon = components['schemas']['CouponDto'];
export type Terms = components['schemas']['TermsDto'];
export type DepositDiscount = components['schemas']['DepositDiscountDto'];

const B = strings.booking;

/** The checkout of booking, as templates' `modules` name it. */
export const BOOKING = 'booking';

/**
 * Which coupon the customer wants on the deposit: `best` lets the server take the one that takes
 * most off (what it does when the hold names none), `coupon` is one they picked, `none` is
 * "不使用优惠券".
 */
export type CouponChoice = { kind: 'best' } | { kind: 'coupon'; id: string } | { kind: 'none' };

export const BEST: CouponChoice = { kind: 'best' };

/** The choice as the hold's body carries it (nothing for the best coupon). */
export function couponFields(choice: CouponChoice): { coupon_id?: string; no_coupon?: boolean } {
  if (choice.kind === 'coupon') return { coupon_id: choice.id };
  if (choice.kind === 'none') return { no_coupon: true };
  return {};
}

/** The choice in a word, to tell one hold's body from another's ("best", "none", "coupon:…"). */
export function choiceKey(choice: CouponChoice): string {
  return choice.kind === 'coupon' ? `coupon:${choice.id}` : choice.kind;
}

/** Whether a template's coupons can ever be taken off a deposit. */
export function forBooking(t: Pick<Terms, 'modules' | 'limited_scope' | 'kind'>): boolean {
  const modules = t.modules ?? [];
  return (modules.length === 0 || modules.includes(BOOKING)) && !t.limited_scope && t.kind !== 'free_item';
}

/** Whether the customer can use the coupon now: available (no order or booking holds it), within its dates. */
export function usableNow(c: Pick<Coupon, 'state' | 'valid_from' | 'valid_until'>, now: number): boolean {
  const from = Date.parse(c.valid_from);
  const until = Date.parse(c.valid_until);
  return c.state === 'available' && !(from > now) && !(until <= now);
}

/** The customer's coupons a booking can take now, as listed (newest first). */
export function bookingCoupons(coupons: readonly Coupon[], now: number): Coupon[] {
  return coupons.filter((c) => usableNow(c, now) && forBooking(c.terms));
}

/** What a coupon would take off a deposit; `problem` says why it takes nothing. */
export interface DepositOff {
  off: number;
  /** "", "BELOW_THRESHOLD" or "NOT_IN_SCOPE". */
  problem: string;
}

/** What a coupon of `t` takes off a deposit of `depositFen`, by the server's rule. */
export function depositOff(t: Terms, depositFen: number): DepositOff {
  if (depositFen <= 0 || !forBooking(t)) return { off: 0, problem: 'NOT_IN_SCOPE' };
  if (depositFen < t.threshold_fen) return { off: 0, problem: 'BELOW_THRESHOLD' };
  let off: number;
  if (t.kind === 'amount_off' || t.kind === 'threshold') off = t.amount_off_fen;
  else if (t.kind === 'percent_off') {
    off = Math.floor((depositFen * t.percent_off) / 100);
    if (t.cap_fen > 0) off = Math.min(off, t.cap_fen);
  } else return { off: 0, problem: 'NOT_IN_SCOPE' };
  off = Math.max(0, Math.min(off, depositFen));
  return off > 0 ? { off, problem: '' } : { off: 0, problem: 'NOT_IN_SCOPE' };
}

export interface RankedCoupon {
  coupon: Coupon;
  off: number;
  problem: string;
}

/** The coupons as the server tries them: most off first, of equal ones the first to expire. */
export function ranked(coupons: readonly Coupon[], depositFen: number): RankedCoupon[] {
  return coupons
    .map((coupon) => ({ coupon, ...depositOff(coupon.terms, depositFen) }))
    .sort((a, b) => b.off - a.off || Date.parse(a.coupon.valid_until) - Date.parse(b.coupon.valid_until));
}

/** The coupon the server would take for `best`; undefined when none takes anything off. */
export function bestCoupon(coupons: readonly Coupon[], depositFen: number): RankedCoupon | undefined {
  const first = ranked(coupons, depositFen)[0];
  return first && first.off > 0 ? first : undefined;
}

/** Why a coupon takes nothing off the deposit, in the customer's words. */
export function problemText(problem: string | null | undefined): string {
  return problem ? (B.couponProblems[problem] ?? B.couponProblemFallback) : '';
}

/** The hold's refusal of the coupon picked (COUPON_UNAVAILABLE, its `problem`), to choose again. */
export function refusalText(problem: string | null | undefined): string {
  return format(B.couponRefused, { reason: problemText(problem || 'COUPON_UNAVAILABLE') });
}

export interface CouponOptionView {
  id: string;
  title: string;
  /** "定金满30元可用" or "无门槛" when usable; why not otherwise. */
  note: string;
  /** "-¥10.00"; empty when it takes nothing off. */
  amount: string;
  /** Why it cannot be used on this deposit; empty when it can. */
  problem: string;
  usable: boolean;
  chosen: boolean;
}

export interface CouponPicker {
  /** Whether the coupon row shows at all: the customer holds a coupon for booking, or chose. */
  shown: boolean;
  /** The row's text: "自动使用最优券", the coupon picked, "不使用优惠券" or "暂无可用优惠券". */
  summary: string;
  /** What the coupon in use would take off, "-¥10.00"; empty when none. */
  amount: string;
  /** The deposit left to pay, in fen, as estimated. */
  dueFen: number;
  /** "应付定金 ¥20.00", or "优惠券已抵扣全部定金"; empty when nothing comes off. */
  due: string;
  /** The coupon would take off the whole deposit: the booking is confirmed, not paid. */
  covered: boolean;
  /** The hold refused the coupon picked: what to tell the customer (choose again). */
  problem: string;
  /** Usable coupons first (most off first), then the others greyed. */
  options: CouponOptionView[];
  bestChosen: boolean;
  noneChosen: boolean;
}

/**
 * The coupon row and picker for a deposit of `depositFen`, the customer's coupons for booking
 * (`bookingCoupons`), the choice, and the hold's last refusal of it (`problem`, already in words).
 */
export function couponPicker(coupons: readonly Coupon[], depositFen: number, choice: CouponChoice, problem = ''): CouponPicker {
  const list = ranked(coupons, depositFen);
  const best = list[0] && list[0].off > 0 ? list[0] : undefined;
  const picked = choice.kind === 'coupon' ? list.find((r) => r.coupon.id === choice.id) : undefined;
  const applied = choice.kind === 'best' ? best : picked && picked.off > 0 ? picked : undefined;
  const off = applied?.off ?? 0;
  const options = list.map((r) => {
    const usable = r.off > 0;
    const t = r.coupon.terms;
    return {
      id: r.coupon.id,
      title: t.title_zh,
      note: usable
        ? t.threshold_fen > 0
          ? format(B.couponThreshold, { threshold: yuanShort(t.threshold_fen) })
          : B.couponNoThreshold
        : '',
      amount: usable ? `-${yuan(r.off)}` : '',
      problem: usable ? '' : problemText(r.problem),
      usable,
      chosen: choice.kind === 'coupon' && r.coupon.id === choice.id,
    };
  });
  let summary: string;
  if (choice.kind === 'none') summary = B.couponNone;
  else if (choice.kind === 'coupon') summary = picked ? picked.coupon.terms.title_zh : B.couponGone;
  else summary = best ? B.couponBest : B.couponNoneUsable;
  const dueFen = Math.max(0, depositFen - off);
  return {
    // A choice the customer made stays visible (to be undone) even when the coupon is gone.
    shown: list.length > 0 || choice.kind !== 'best' || !!problem,
    summary,
    amount: off > 0 ? `-${yuan(off)}` : '',
    dueFen,
    due: off <= 0 ? '' : dueFen === 0 ? B.depositCovered : format(B.depositDue, { amount: yuan(dueFen) }),
    covered: off > 0 && dueFen === 0,
    problem,
    options,
    bestChosen: choice.kind === 'best',
    noneChosen: choice.kind === 'none',
  };
}

export interface DiscountLine {
  key: string;
  /** "优惠券 定金立减10元". */
  label: string;
  /** "-¥10.00". */
  amount: string;
}

/** The deposit's discount lines, in the server's order (a kind this release does not know: its label alone). */
export function discountLines(discounts: readonly DepositDiscount[] | null | undefined): DiscountLine[] {
  return (discounts ?? []).map((d, i) => {
    const template = B.discountKinds[d.kind];
    return {
      key: d.coupon_id || `${d.kind}-${i}`,
      label: template ? format(template, { label: d.label_zh }) : d.label_zh,
      amount: `-${yuan(d.amount_fen)}`,
    };
  });
}

/** A held deposit with something taken off it, as it reads. */
export interface DepositSummary {
  /** The deposit before discounts: "定金 ¥30.00". */
  original: string;
  lines: DiscountLine[];
  /** "应付定金 ¥20.00"; empty when a coupon paid it all. */
  due: string;
  /** "优惠券已抵扣全部定金" when a coupon paid it all; empty otherwise. */
  covered: string;
}

/** The deposit of a booking with a discount; undefined without one (the deposit reads as before). */
export function depositSummary(r: Pick<Reservation, 'deposit_fen' | 'deposit_discount_fen' | 'discounts'>): DepositSummary | undefined {
  const off = r.deposit_discount_fen ?? 0;
  if (off <= 0) return undefined;
  const left = Math.max(0, r.deposit_fen);
  return {
    original: format(B.deposit, { amount: yuan(left + off) }),
    lines: discountLines(r.discounts),
    due: left > 0 ? format(B.depositDue, { amount: yuan(left) }) : '',
    covered: left > 0 ? '' : B.depositCovered,
  };
}

/** The summary in lines, for the step after the hold: "定金 ¥30.00\n优惠券 定金立减10元 -¥10.00\n应付定金 ¥20.00". */
export function summaryText(s: DepositSummary): string {
  return [s.original, ...s.lines.map((l) => `${l.label} ${l.amount}`), s.due || s.covered].join('\n');
}
