// A reservation's deposit once discounts (coupons) came off it, without I/O. The server writes the
// discounts back on the reservation when it is held: `deposit_fen` is what is left to pay,
// `deposit_discount_fen` what came off, `discounts` the lines. Staff read it as
// "定金 ¥30.00，优惠券 -¥10.00，应付 ¥20.00".
import type { Reservation } from '@/gen/minimodules/booking/v1/booking_pb'
import type { DepositDiscount } from '@/gen/minimodules/booking/v1/discounts_pb'
import { yuan } from '@/lib/money'

/** The slice of vue-i18n's `t` this needs, so tests may pass either language's. */
export type Say = (key: string, params?: Record<string, unknown>) => string
/** Picks the Chinese or the English text for the current language. */
export type Pick = (zh: string, en: string) => string

/** The kinds of deposit discount this build words itself, as locale keys below `booking.depositDiscount.kinds`. */
export type DepositDiscountKindKey = 'coupon'

/** A discount's kind (booking/v1/discounts.proto `DepositDiscount.kind`) as a locale key; undefined for one this build does not know. */
export function depositDiscountKindKey(kind: string): DepositDiscountKindKey | undefined {
  return kind === 'COUPON' ? 'coupon' : undefined
}

/** A deposit with what came off it. */
export interface DiscountedDeposit {
  /** The deposit the service asks, before discounts. */
  grossFen: bigint
  /** Taken off by discounts. */
  discountFen: bigint
  /** Left to pay (the reservation's `deposit_fen`). */
  dueFen: bigint
  /** The discounts, line by line, as the server sent them. */
  lines: DepositDiscount[]
}

const sum = (lines: readonly DepositDiscount[]) => lines.reduce((n, d) => n + d.amountFen, 0n)

/** The deposit of `r` with its discounts; null when nothing came off it. */
export function discountedDeposit(r: Reservation): DiscountedDeposit | null {
  const off = r.depositDiscountFen > 0n ? r.depositDiscountFen : sum(r.discounts)
  if (off <= 0n) return null
  return { grossFen: r.depositFen + off, discountFen: off, dueFen: r.depositFen, lines: r.discounts }
}

/** One discount line's kind in words: this build's own for a kind it knows, else the server's label (or the raw kind). */
export function depositDiscountKind(d: DepositDiscount, say: Say, pick: Pick): string {
  const key = depositDiscountKindKey(d.kind)
  return key ? say(`booking.depositDiscount.kinds.${key}`) : pick(d.labelZh, d.labelEn) || d.kind
}

/**
 * "定金 ¥30.00，优惠券 -¥10.00，应付 ¥20.00": the deposit, what each kind took off (lines of a
 * known kind added up, a line of an unknown kind by its own label), and what is left to pay.
 */
export function depositSummary(d: DiscountedDeposit, say: Say, pick: Pick): string {
  const taken = new Map<string, bigint>()
  for (const line of d.lines) {
    const label = depositDiscountKind(line, say, pick)
    taken.set(label, (taken.get(label) ?? 0n) + line.amountFen)
  }
  // Taken off but not listed line by line (an older server): shown as a plain discount.
  const unlisted = d.discountFen - sum(d.lines)
  if (unlisted > 0n) {
    const label = say('booking.depositDiscount.other')
    taken.set(label, (taken.get(label) ?? 0n) + unlisted)
  }
  const parts = [
    say('booking.depositDiscount.gross', { amount: yuan(d.grossFen) }),
    ...[...taken].map(([kind, fen]) => say('booking.depositDiscount.less', { kind, amount: yuan(fen) })),
    say('booking.depositDiscount.due', { amount: yuan(d.dueFen) }),
  ]
  return parts.join(say('booking.depositDiscount.separator'))
}
