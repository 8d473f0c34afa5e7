// Members between the wire and the screen, without I/O: a customer's member name, what a points
// entry is in a shop owner's words, what an entry came from or a coupon went to (an order, or a
// booking's deposit), how far a member is from the next level, and the adjust form's state to a
// delta. The shop's `levels_by` (marketing's config) says whether levels are
// reached by lifetime spend (fen) or lifetime points; the server works out the level itself, the
// page only measures the way to the next one.
import { CouponState, type Member } from '@/gen/minimodules/marketing/v1/coupon_pb'
import type { Say } from './terms'

/** What member levels are reached by, as marketing's config names it. */
export type LevelsBy = 'spend' | 'points'

/** The most points one adjustment may add or take (AdjustPoints). */
export const MAX_ADJUST = 1_000_000
/** The longest reason an adjustment may give, in characters (AdjustPoints). */
export const MAX_REASON = 200

/** A customer's member: "tenants/{t}/users/{u}" → "tenants/{t}/members/{u}" (the same user id). */
export function memberOf(customer: string): string {
  return customer.replace(/\/users\/([^/]+)$/, '/members/$1')
}

/** `levels_by` of the shop's stored marketing config; undefined when it says neither. */
export function levelsByOf(config: unknown): LevelsBy | undefined {
  const v = (config as { levels_by?: unknown } | undefined)?.levels_by
  return v === 'spend' || v === 'points' ? v : undefined
}

/** The way from the level reached (or nothing) to the next one. */
export interface Progress {
  by: LevelsBy
  /** Lifetime spend in fen, or lifetime points. */
  reached: bigint
  /** Where the current level starts (0 below the first). */
  from: bigint
  /** Where the next level starts. */
  to: bigint
  /** What is still missing, never below 0. */
  remaining: bigint
  /** 0 to 100, one decimal. */
  percent: number
}

/** How far `m` is on the way to its next level; null at the top, or when `by` is unknown. */
export function progressOf(m: Member, by: LevelsBy | undefined): Progress | null {
  if (!by || !m.nextLevel) return null
  const reached = by === 'points' ? m.lifetimePoints : m.lifetimeSpendFen
  const from = m.level?.threshold ?? 0n
  const to = m.nextLevel.threshold
  const remaining = to > reached ? to - reached : 0n
  const span = to - from
  const done = reached - from
  const permille = span > 0n ? Number((done * 1000n) / span) : 1000
  return { by, reached, from, to, remaining, percent: Math.min(100, Math.max(0, permille / 10)) }
}

/** The kinds of points entry this build words, as locale keys below `marketing.members.kinds`. */
export type EntryKindKey =
  'orderPaid' | 'orderRefunded' | 'orderSpent' | 'orderReturned' | 'bookingCompleted' | 'adjusted'

const ENTRY_KINDS: Record<string, EntryKindKey> = {
  ORDER_PAID: 'orderPaid',
  ORDER_REFUNDED: 'orderRefunded',
  ORDER_SPENT: 'orderSpent',
  ORDER_RETURNED: 'orderReturned',
  BOOKING_COMPLETED: 'bookingCompleted',
  ADJUSTED: 'adjusted',
}

/** An entry's kind (PointsEntry.kind) as a locale key below `marketing.members.kinds`; undefined for one this build does not know. */
export function entryKindKey(kind: string): EntryKindKey | undefined {
  return Object.hasOwn(ENTRY_KINDS, kind) ? ENTRY_KINDS[kind] : undefined
}

/** The colour of an entry kind's tag: earned green, taken back orange, spent blue, by hand grey. */
export const ENTRY_KIND_TAG: Record<EntryKindKey, 'success' | 'warning' | 'primary' | 'info'> = {
  orderPaid: 'success',
  bookingCompleted: 'success',
  orderRefunded: 'warning',
  orderReturned: 'warning',
  orderSpent: 'primary',
  adjusted: 'info',
}

/**
 * What a coupon went to, or a points entry came from, by its resource name: an order
 * ("tenants/{t}/orders/{o}") or, for a coupon taken off a booking's deposit, a reservation
 * ("tenants/{t}/reservations/{r}"); undefined for an empty or unknown name.
 */
export function spentOn(name: string): { kind: 'order' | 'reservation'; id: string } | undefined {
  const m = /^tenants\/[^/]+\/(orders|reservations)\/([^/]+)$/.exec(name)
  if (!m) return undefined
  return { kind: m[1] === 'orders' ? 'order' : 'reservation', id: m[2]! }
}

/**
 * What an entry came from or a coupon went to, in words: "订单 A0012" (by its number when known),
 * "预约 2026-12-08 10:00" (by when it starts when known); '' for nothing.
 */
export function spentOnText(
  name: string,
  say: Say,
  orderNumbers: ReadonlyMap<string, string>,
  reservationStarts: ReadonlyMap<string, string>,
): string {
  if (!name) return ''
  const on = spentOn(name)
  const id = on?.id ?? name.slice(name.lastIndexOf('/') + 1)
  if (on?.kind === 'reservation')
    return say('marketing.members.reservation', { when: reservationStarts.get(name) ?? id })
  return say('marketing.members.order', { number: orderNumbers.get(name) ?? id })
}

/** A coupon's state as a locale key below `marketing.members.coupons.states`, with its tag's colour. */
export function couponStateOf(
  state: CouponState,
): { key: 'available' | 'locked' | 'used' | 'expired'; tag: 'success' | 'warning' | 'info' } | undefined {
  switch (state) {
    case CouponState.AVAILABLE:
      return { key: 'available', tag: 'success' }
    case CouponState.LOCKED:
      return { key: 'locked', tag: 'warning' }
    case CouponState.USED:
      return { key: 'used', tag: 'info' }
    case CouponState.EXPIRED:
      return { key: 'expired', tag: 'info' }
    default:
      return undefined
  }
}

/** 50 → "+50", -20 → "-20", 0 → "0". */
export function signedPoints(delta: bigint): string {
  return delta > 0n ? `+${delta}` : String(delta)
}

/** The adjust dialog's form: add or take, how many, and why. */
export interface AdjustForm {
  direction: 'add' | 'take'
  amount: number | null | undefined
  reason: string
}

export function blankAdjust(): AdjustForm {
  return { direction: 'add', amount: undefined, reason: '' }
}

/** The points to send: positive to add, negative to take; 0 when no whole amount is typed. */
export function deltaOf(f: AdjustForm): bigint {
  const n = f.amount
  if (n === null || n === undefined || !Number.isFinite(n)) return 0n
  const whole = BigInt(Math.trunc(n))
  return f.direction === 'take' ? -whole : whole
}

/**
 * What the form lacks before it is worth sending (the server checks the same, and the balance):
 * keyed as the contract's fields, worded by `say`.
 */
export function adjustProblems(f: AdjustForm, say: Say): Record<string, string> {
  const out: Record<string, string> = {}
  const delta = deltaOf(f)
  const size = delta < 0n ? -delta : delta
  if (size < 1n || size > BigInt(MAX_ADJUST) || !Number.isInteger(f.amount))
    out.delta = say('marketing.violations.delta_ABOVE_MAXIMUM', { max: MAX_ADJUST })
  if (!f.reason.trim()) out.reason = say('marketing.members.dialog.reasonRequired')
  return out
}
