// An order's discounts in a shop's words, without I/O. The server sends each line with a
// machine-readable kind (ordering/v1/discounts.proto `Discount.kind`: PROMOTION, MEMBER_LEVEL,
// COUPON, POINTS) and its own label ("满100减20", "积分抵扣（500 积分）"); the board names the kinds
// it knows itself and shows a kind it does not know by the server's label.
import type { Discount } from '@/gen/minimodules/ordering/v1/discounts_pb'

/** The slice of vue-i18n's `t` this needs, so tests may pass either language's. */
export type Say = (key: string) => string
/** Picks the Chinese or the English text for the current language. */
export type Pick = (zh: string, en: string) => string

/** The kinds of discount this build words, as locale keys below `ordering.discountKinds`. */
export type DiscountKindKey = 'promotion' | 'memberLevel' | 'coupon' | 'points'

const KINDS: Record<string, DiscountKindKey> = {
  PROMOTION: 'promotion',
  MEMBER_LEVEL: 'memberLevel',
  COUPON: 'coupon',
  POINTS: 'points',
}

/** A discount's kind as a locale key; undefined for one this build does not know. */
export function discountKindKey(kind: string): DiscountKindKey | undefined {
  return Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined
}

/** One discount line as the board shows it: the kind, and the server's label when it says more. */
export interface DiscountView {
  /** The kind in words: this build's own, else the server's label (or the raw kind). */
  kind: string
  /** The server's label, when it is not already the kind shown. */
  detail: string
}

export function discountView(d: Discount, say: Say, pick: Pick): DiscountView {
  const label = pick(d.labelZh, d.labelEn)
  const key = discountKindKey(d.kind)
  if (!key) return { kind: label || d.kind, detail: '' }
  const kind = say(`ordering.discountKinds.${key}`)
  return { kind, detail: label === kind ? '' : label }
}
