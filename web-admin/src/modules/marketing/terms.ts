// Coupon templates between the wire and the screen, without I/O: the offer in a shop owner's words
// ("满100减20", "8折", "立减5元", "兑换券"), the validity, where a template stands and what it
// brought in, and the create form's state to and from a CouponTemplate message. Money is fen on
// the wire and yuan on screen; a discount is typed in 折 (8 = 8折 = 20% off).
import { create } from '@bufbuild/protobuf'
import { timestampFromMs, timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt'
import {
  CouponKind,
  CouponTemplateSchema,
  CouponTemplateState,
  type CouponTemplate,
} from '@/gen/minimodules/marketing/v1/coupon_pb'
import { toFen } from '@/lib/money'

/** The slice of vue-i18n's `t` this needs, so tests may pass either language's. */
export type Say = (key: string, params?: Record<string, unknown>) => string

/** The modules whose checkouts a coupon may be limited to, as the contract names them. */
export const COUPON_MODULES = ['ordering', 'booking'] as const

/** The kinds a shop can create, in the order the form offers them. */
export const KINDS = [CouponKind.THRESHOLD, CouponKind.PERCENT_OFF, CouponKind.AMOUNT_OFF, CouponKind.FREE_ITEM]

/** A kind's locale key below `marketing.kinds`. */
export function kindKey(kind: CouponKind): 'threshold' | 'percentOff' | 'amountOff' | 'freeItem' {
  switch (kind) {
    case CouponKind.PERCENT_OFF:
      return 'percentOff'
    case CouponKind.AMOUNT_OFF:
      return 'amountOff'
    case CouponKind.FREE_ITEM:
      return 'freeItem'
    default:
      return 'threshold'
  }
}

/** 10000 fen → "100", 9950 → "99.5", 1 → "0.01": amounts as a coupon's terms write them. */
export function shortYuan(fen: bigint | number): string {
  return (Number(fen) / 100).toFixed(2).replace(/\.?0+$/, '')
}

/** Percent off → 折: 20 → "8", 15 → "8.5", 1 → "9.9". */
export function zhe(percentOff: number): string {
  return String((100 - percentOff) / 10)
}

/** 折 typed in the form → percent off: 8 → 20, 8.5 → 15; nothing typed gives 0 (the server says why). */
export function percentOffOf(discount: number | null | undefined): number {
  if (discount === null || discount === undefined || !Number.isFinite(discount)) return 0
  return Math.round((10 - discount) * 10)
}

/**
 * The offer in words: "满100减20", "满50享8折，最多减30元", "立减5元", "兑换券：拿铁". `item` names
 * a free item's product when the caller knows it.
 */
export function offerText(t: CouponTemplate, say: Say, item = ''): string {
  const threshold = shortYuan(t.thresholdFen)
  const amount = shortYuan(t.amountOffFen)
  const hasThreshold = t.thresholdFen > 0n
  switch (t.kind) {
    case CouponKind.THRESHOLD:
      return say('marketing.terms.threshold', { threshold, amount })
    case CouponKind.AMOUNT_OFF:
      return hasThreshold
        ? say('marketing.terms.threshold', { threshold, amount })
        : say('marketing.terms.amountOff', { amount })
    case CouponKind.PERCENT_OFF: {
      const params = { zhe: zhe(t.percentOff), percent: t.percentOff, threshold }
      const base = say(hasThreshold ? 'marketing.terms.percentOffFrom' : 'marketing.terms.percentOff', params)
      return t.capFen > 0n ? base + say('marketing.terms.cap', { cap: shortYuan(t.capFen) }) : base
    }
    case CouponKind.FREE_ITEM: {
      const base = item ? say('marketing.terms.freeItemOf', { item }) : say('marketing.terms.freeItem')
      return hasThreshold ? base + say('marketing.terms.minimum', { threshold }) : base
    }
    default:
      return ''
  }
}

/** Whether the template takes anything off yet: the form previews its offer only then. */
export function hasOffer(t: CouponTemplate): boolean {
  switch (t.kind) {
    case CouponKind.THRESHOLD:
    case CouponKind.AMOUNT_OFF:
      return t.amountOffFen > 0n
    case CouponKind.PERCENT_OFF:
      return t.percentOff > 0 && t.percentOff < 100
    case CouponKind.FREE_ITEM:
      return t.freeProduct !== ''
    default:
      return false
  }
}

const pad = (n: number) => String(n).padStart(2, '0')

/** An instant as the browser's local date, "2026-01-31". */
export function localDate(ms: number): string {
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

/** "2026-01-31" → the first and the last second of that local day, in milliseconds. */
export function dayBounds(date: string): { start: number; end: number } {
  const [y = NaN, m = NaN, d = NaN] = date.split('-').map(Number)
  const start = new Date(y, m - 1, d).getTime()
  const end = new Date(y, m - 1, d + 1).getTime() - 1000
  return { start, end }
}

/** "2026-01-01 至 2026-01-31" for fixed dates, "领取后 7 天内有效" otherwise. */
export function validityText(t: CouponTemplate, say: Say): string {
  if (t.validFrom && t.validUntil) {
    return say('marketing.validity.range', {
      from: localDate(timestampMs(t.validFrom)),
      until: localDate(timestampMs(t.validUntil)),
    })
  }
  return say('marketing.validity.days', { days: t.validDays })
}

/** Where a template stands, as the list shows it: stopped first, then past its dates, then all claimed. */
export type Standing = 'active' | 'stopped' | 'expired' | 'soldOut'

export function standing(t: CouponTemplate, nowMs: number): Standing {
  if (t.state === CouponTemplateState.STOPPED) return 'stopped'
  if (t.validUntil && timestampMs(t.validUntil) <= nowMs) return 'expired'
  if (t.claimedCount >= t.totalQuantity) return 'soldOut'
  return 'active'
}

/** A template's numbers: what was handed out, used, and what the orders that used it came to. */
export interface Usage {
  claimed: number
  total: number
  remaining: number
  used: number
  /** Used out of claimed, 0 to 1. */
  useRate: number
  revenueFen: bigint
  /** What an order that used it came to on average, in fen. */
  averageFen: bigint
}

export function usageOf(t: CouponTemplate): Usage {
  const used = t.usedCount
  return {
    claimed: t.claimedCount,
    total: t.totalQuantity,
    remaining: Math.max(0, t.totalQuantity - t.claimedCount),
    used,
    useRate: t.claimedCount > 0 ? used / t.claimedCount : 0,
    revenueFen: t.usedOrderTotalFen,
    averageFen: used > 0 ? t.usedOrderTotalFen / BigInt(used) : 0n,
  }
}

/** 0.123 → "12.3%". */
export function percentText(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`
}

/** The create form, as the dialog edits it. Amounts in yuan; `discount` in 折. */
export interface TemplateForm {
  titleZh: string
  titleEn: string
  description: string
  kind: CouponKind
  /** 满 (THRESHOLD), or the minimum spend (PERCENT_OFF); yuan. */
  threshold: number
  /** 减 (THRESHOLD, AMOUNT_OFF); yuan. */
  amountOff: number
  /** PERCENT_OFF: 0.1 to 9.9 折. */
  discount: number
  /** PERCENT_OFF: at most this much off, 0 for no cap; yuan. */
  cap: number
  freeProduct: string
  freeSkuId: string
  validity: 'days' | 'dates'
  /** Fixed dates, local "YYYY-MM-DD", both ends included. */
  dates: [string, string] | null
  validDays: number
  totalQuantity: number
  perCustomerLimit: number
  modules: string[]
  scope: 'all' | 'some'
  products: string[]
  categories: string[]
  stackable: boolean
  claimable: boolean
}

export function blankForm(): TemplateForm {
  return {
    titleZh: '',
    titleEn: '',
    description: '',
    kind: CouponKind.THRESHOLD,
    threshold: 0,
    amountOff: 0,
    discount: 9,
    cap: 0,
    freeProduct: '',
    freeSkuId: '',
    validity: 'days',
    dates: null,
    validDays: 30,
    totalQuantity: 100,
    perCustomerLimit: 1,
    modules: [],
    scope: 'all',
    products: [],
    categories: [],
    stackable: false,
    claimable: true,
  }
}

const whole = (n: number | null | undefined) => (n === null || n === undefined ? 0 : Math.trunc(n))
const fen = (yuan: number | null | undefined) => toFen(yuan ?? 0)
const stamp = (ms: number): Timestamp => timestampFromMs(ms)

/**
 * The template the form describes, with only the fields its kind uses (the server refuses, say,
 * a percentage on a 满减券). Fixed dates run from the first day's start to the last day's end in
 * the browser's time zone, the shop's own for a shop's computer.
 */
export function toTemplate(f: TemplateForm): CouponTemplate {
  const kind = f.kind
  const usesAmount = kind === CouponKind.THRESHOLD || kind === CouponKind.AMOUNT_OFF
  const usesThreshold = kind === CouponKind.THRESHOLD || kind === CouponKind.PERCENT_OFF
  const percent = kind === CouponKind.PERCENT_OFF
  const free = kind === CouponKind.FREE_ITEM
  const dates = f.validity === 'dates' && f.dates ? [dayBounds(f.dates[0]).start, dayBounds(f.dates[1]).end] : null
  const some = f.scope === 'some'
  return create(CouponTemplateSchema, {
    titleZh: f.titleZh.trim(),
    titleEn: f.titleEn.trim(),
    description: f.description.trim(),
    kind,
    amountOffFen: usesAmount ? fen(f.amountOff) : 0n,
    percentOff: percent ? percentOffOf(f.discount) : 0,
    capFen: percent ? fen(f.cap) : 0n,
    thresholdFen: usesThreshold ? fen(f.threshold) : 0n,
    freeProduct: free ? f.freeProduct : '',
    freeSkuId: free ? f.freeSkuId : '',
    validFrom: dates ? stamp(dates[0]!) : undefined,
    validUntil: dates ? stamp(dates[1]!) : undefined,
    validDays: f.validity === 'days' ? whole(f.validDays) : 0,
    totalQuantity: whole(f.totalQuantity),
    perCustomerLimit: whole(f.perCustomerLimit),
    modules: [...f.modules],
    products: some ? [...f.products] : [],
    categories: some ? [...f.categories] : [],
    stackable: f.stackable,
    claimable: f.claimable,
  })
}

/** The form for a template (to copy it as a new one): the inverse of `toTemplate`. */
export function formOf(t: CouponTemplate): TemplateForm {
  const blank = blankForm()
  const dated = !!(t.validFrom && t.validUntil)
  return {
    titleZh: t.titleZh,
    titleEn: t.titleEn,
    description: t.description,
    kind: KINDS.includes(t.kind) ? t.kind : blank.kind,
    threshold: Number(t.thresholdFen) / 100,
    amountOff: Number(t.amountOffFen) / 100,
    discount: t.kind === CouponKind.PERCENT_OFF ? Number(zhe(t.percentOff)) : blank.discount,
    cap: Number(t.capFen) / 100,
    freeProduct: t.freeProduct,
    freeSkuId: t.freeSkuId,
    validity: dated ? 'dates' : 'days',
    dates: dated ? [localDate(timestampMs(t.validFrom!)), localDate(timestampMs(t.validUntil!))] : null,
    validDays: dated ? blank.validDays : t.validDays,
    totalQuantity: t.totalQuantity,
    perCustomerLimit: t.perCustomerLimit,
    modules: [...t.modules],
    scope: t.products.length || t.categories.length ? 'some' : 'all',
    products: [...t.products],
    categories: [...t.categories],
    stackable: t.stackable,
    claimable: t.claimable,
  }
}

/** The fields of the edit dialog, the ones UpdateCouponTemplate may change besides the state. */
export interface EditForm {
  titleZh: string
  titleEn: string
  description: string
  totalQuantity: number
  claimable: boolean
}

export function editFormOf(t: CouponTemplate): EditForm {
  return {
    titleZh: t.titleZh,
    titleEn: t.titleEn,
    description: t.description,
    totalQuantity: t.totalQuantity,
    claimable: t.claimable,
  }
}

/**
 * The update an edit makes: the changed fields and their update_mask paths (snake_case, as the
 * contract names them), so a total changed alone is sent as ["total_quantity"].
 */
export function editChanges(before: CouponTemplate, f: EditForm): { template: CouponTemplate; paths: string[] } | null {
  const template = create(CouponTemplateSchema, {
    name: before.name,
    titleZh: f.titleZh.trim(),
    titleEn: f.titleEn.trim(),
    description: f.description.trim(),
    totalQuantity: whole(f.totalQuantity),
    claimable: f.claimable,
  })
  const paths: string[] = []
  if (template.titleZh !== before.titleZh) paths.push('title_zh')
  if (template.titleEn !== before.titleEn) paths.push('title_en')
  if (template.description !== before.description) paths.push('description')
  if (template.totalQuantity !== before.totalQuantity) paths.push('total_quantity')
  if (template.claimable !== before.claimable) paths.push('claimable')
  return paths.length ? { template, paths } : null
}
