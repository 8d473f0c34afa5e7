/**
 * Discounts at checkout: the customer's coupon choice as the quote and the order take it, the
 * discount lines of a quote or an order, and the coupon picker built from the quote's coupons.
 * Pure, no wx. Everything here comes from the server's quote: a shop without a discounting
 * module (marketing off) answers no coupons and no discounts, and nothing of this shows.
 */
import { format, strings, yuan } from '../../../core/locale/index';
import type { components } from '../../../core/api/schema';

export type Discount = components['schemas']['DiscountDto'];
export type CouponOption = components['schemas']['CouponOptionDto'];
type Quote = components['schemas']['QuoteDto'];

const T = strings.checkout;

/**
 * Which coupon the customer wants: `best` lets the server take the one that saves most (what it
 * does when the body names none), `coupon` is one they picked, `none` is "不使用优惠券". The quote
 * and the order must be asked with the same choice, or the order's total would not be the one
 * shown.
 */
export type CouponChoice = { kind: 'best' } | { kind: 'coupon'; id: string } | { kind: 'none' };

export const BEST: CouponChoice = { kind: 'best' };

/** The choice as the quote and order bodies carry it. */
export function couponFields(choice: CouponChoice): { coupon_id?: string; no_coupon?: boolean } {
  if (choice.kind === 'coupon') return { coupon_id: choice.id };
  if (choice.kind === 'none') return { no_coupon: true };
  return {};
}

export interface DiscountLine {
  key: string;
  /** "优惠券 满100减20". */
  label: string;
  /** "-¥20.00". */
  amount: string;
}

/** The discount lines of a quote or an order (none for an order placed before discounts). */
export function discountLines(discounts: readonly Discount[] | undefined): DiscountLine[] {
  return (discounts ?? []).map((d, i) => ({
    key: d.coupon_id || `${d.kind}-${i}`,
    label: d.kind === 'COUPON' ? format(T.discountCoupon, { label: d.label_zh }) : d.label_zh,
    amount: `-${yuan(d.amount_fen)}`,
  }));
}

/** Why a coupon takes nothing off, in the customer's words. */
export function problemText(problem: string | null | undefined): string {
  return problem ? (T.couponProblems[problem] ?? T.couponProblemFallback) : '';
}

export interface CouponOptionView {
  id: string;
  title: string;
  /** "-¥9.60"; empty when it takes nothing off. */
  amount: string;
  /** Why it cannot be used on this basket; empty when it can. */
  problem: string;
  usable: boolean;
  chosen: boolean;
}

export interface CouponPicker {
  /** Whether the coupon row shows at all. */
  shown: boolean;
  /** The row's text: the coupon in use, "不使用优惠券" or "暂无可用优惠券". */
  summary: string;
  /** What the coupon in use takes off, "-¥9.60"; empty when none. */
  amount: string;
  /** The picked coupon cannot be used on this basket: what to tell the customer (blocks ordering). */
  problem: string;
  /** Usable coupons first (most off first, as the server ranks them), then the others greyed. */
  options: CouponOptionView[];
  noneChosen: boolean;
}

/** The coupon the quote applied: the picked one, or the server's best. */
export function appliedCoupon(q: Pick<Quote, 'discounts'>): string {
  return (q.discounts ?? []).find((d) => d.kind === 'COUPON')?.coupon_id ?? '';
}

/** The coupon row and picker for a quote asked with `choice`. */
export function couponPicker(q: Pick<Quote, 'discounts' | 'coupons' | 'coupon_problem'>, choice: CouponChoice): CouponPicker {
  const coupons = q.coupons ?? [];
  const applied = appliedCoupon(q);
  const chosenId = choice.kind === 'coupon' ? choice.id : applied;
  const options = coupons.map((c) => {
    const usable = !c.problem && c.amount_fen > 0;
    return {
      id: c.coupon_id,
      title: c.title_zh,
      amount: usable ? `-${yuan(c.amount_fen)}` : '',
      problem: usable ? '' : problemText(c.problem ?? 'NOT_IN_SCOPE'),
      usable,
      chosen: choice.kind !== 'none' && c.coupon_id === chosenId,
    };
  });
  options.sort((a, b) => Number(b.usable) - Number(a.usable));
  const appliedDiscount = (q.discounts ?? []).find((d) => d.kind === 'COUPON' && d.coupon_id === applied);
  const picked = choice.kind === 'coupon' ? coupons.find((c) => c.coupon_id === choice.id) : undefined;
  const problem = q.coupon_problem ? format(T.couponPicked, { reason: problemText(q.coupon_problem) }) : '';
  let summary: string;
  if (choice.kind === 'none') summary = T.couponNone;
  else if (appliedDiscount) summary = appliedDiscount.label_zh;
  else if (picked) summary = picked.title_zh;
  else summary = T.couponNoneUsable;
  return {
    // A choice the customer made stays visible (to be undone) even when the coupon is gone.
    shown: coupons.length > 0 || !!applied || choice.kind !== 'best' || !!q.coupon_problem,
    summary,
    amount: appliedDiscount ? `-${yuan(appliedDiscount.amount_fen)}` : '',
    problem,
    options,
    noneChosen: choice.kind === 'none',
  };
}
