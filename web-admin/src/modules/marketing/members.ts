// Members between the wire and the screen, without I/O: a customer's member name, what a points
// entry is in a shop owner's words, how far a member is from the next level, and the adjust
// form's state to a delta. The shop's `levels_by` (marketing's config) says whether levels are
// reached by lifetime spend (fen) or lifetime points; the server works out the level itself, the
// page only measures the way to the next one.
import type { Member } from '@/gen/minimodules/marketing/v1/coupon_pb'
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

/** An entry's kind as a locale key below `marketing.members.kinds`; undefined for one this build does not know. */
export function entryKindKey(kind: string): 'orderPaid' | 'orderRefunded' | 'adjusted' | undefined {
  switch (kind) {
    case 'ORDER_PAID':
      return 'orderPaid'
    case 'ORDER_REFUNDED':
      return 'orderRefunded'
    case 'ADJUSTED':
      return 'adjusted'
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
