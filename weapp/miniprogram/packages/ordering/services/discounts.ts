/**
 * Discounts at checkout: the customer's coupon choice and points switch as the quote and the
 * order take them, the discount lines of a quote or an order (promotions, the member level, the
 * coupon, points), the coupon picker built from the quote's coupons, and the points row. Pure,
 * no wx. Everything here comes from the server's quote: a shop without a discounting module
 * (marketing off) answers no coupons, no points and no discounts, and nothing of this shows.
 */
import { format, strings, yuan, yuanShort } from '../../../core/locale/index';
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

/** Whether to pay with points, as the quote and order bodies carry it (nothing when not). */
export function pointsFields(usePoints: boolean): { use_points?: boolean } {
  return usePoints ? { use_points: true } : {};
}

export interface DiscountLine {
  key: string;
  /** "促销 午市特惠·8折", "金卡优惠 5%", "优惠券 满100减20", "积分抵扣（500 积分）". */
  label: string;
  /** "-¥20.00". */
  amount: string;
}

/** A discount's label by its kind (PROMOTION, MEMBER_LEVEL, COUPON, POINTS; others as given). */
export function discountLabel(d: Pick<Discount, 'kind' | 'label_zh'>): string {
  const template = T.discountKinds[d.kind];
  return template ? format(template, { label: d.label_zh }) : d.label_zh;
}

/**
 * The discount lines of a quote or an order, in the server's order (promotions, the member level,
 * the coupon, points: each counted on what the ones before left); none for an order placed
 * before discounts.
 */
export function discountLines(discounts: readonly Discount[] | undefined): DiscountLine[] {
  return (discounts ?? []).map((d, i) => ({
    key: d.coupon_id || `${d.kind}-${i}`,
    label: discountLabel(d),
    amount: `-${yuan(d.amount_fen)}`,
  }));
}

/** What the quote's or order's points line takes off, in fen (0 without one). */
export function pointsOff(q: Pick<Quote, 'discounts'> | undefined): number {
  return (q?.discounts ?? []).filter((d) => d.kind === 'POINTS').reduce((n, d) => n + d.amount_fen, 0);
}

export interface PointsRow {
  /** "可用 500 积分抵 ¥5", "积分不足", "本单暂不可用积分抵扣". */
  text: string;
  /** "共 1200 积分". */
  balance: string;
  /** Whether the switch can be turned on: this basket takes some points. */
  usable: boolean;
  /** Whether the switch shows on: asked for, and usable. */
  on: boolean;
}

/**
 * The points row for a quote asked with `usePoints`; null (nothing shown) when the shop takes no
 * points (the quote has no `points`). What the points can pay is the same with the switch on or
 * off: the server counts it before taking the points.
 */
export function pointsRow(q: Pick<Quote, 'points'>, usePoints: boolean): PointsRow | null {
  const p = q.points;
  if (!p) return null;
  const usable = p.usable_points > 0 && p.amount_fen > 0;
  let text: string;
  if (usable) text = format(T.pointsUsable, { points: p.usable_points, amount: yuanShort(p.amount_fen) });
  else if (p.balance < p.points_per_yuan) text = T.pointsShort;
  else text = T.pointsNotHere;
  return { text, balance: format(T.pointsBalance, { n: p.balance }), usable, on: usable && usePoints };
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
