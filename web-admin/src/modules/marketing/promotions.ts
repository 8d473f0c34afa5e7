// Promotions (促销活动) between the wire and the screen, without I/O: what one does in a shop
// owner's words ("满50减5，满100减15", "8折"), what it counts for ("全部商品", "3 个商品"), where it
// stands (进行中, 未开始, 已结束, 已停止), the create and edit forms to and from the Promotion
// message with the server's rules checked before sending (PromotionService: titles, tiers rising,
// 1 to 90 percent off, an end after the start, in the future, at most 366 days on), and the month
// calendar: the days of a month in weeks from Monday, and each promotion as a bar on the days it
// runs. Money is fen on the wire and yuan on screen; a discount is typed in 折 (8 = 8折 = 20% off);
// times are the browser's own, as the coupon pages' dates.
import { create } from '@bufbuild/protobuf'
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt'
import {
  PromotionKind,
  PromotionSchema,
  PromotionState,
  PromotionTierSchema,
  type Promotion,
  type PromotionTier,
} from '@/gen/minimodules/marketing/v1/promotion_pb'
import { toFen } from '@/lib/money'
import { percentOffOf, shortYuan, zhe, type Say } from './terms'

/** The kinds a shop can create, in the order the form offers them. */
export const PROMOTION_KINDS = [PromotionKind.TIERED, PromotionKind.PERCENT_OFF]

/** Tiers a full reduction has at most. */
export const MAX_TIERS = 5
/** The highest threshold of a tier, in fen (1,000,000 yuan). */
export const MAX_THRESHOLD_FEN = 100_000_000n
/** Percent off a time-limited discount takes at least and at most (90 = 1折). */
export const MIN_PERCENT_OFF = 1
export const MAX_PERCENT_OFF = 90
/** Products (or categories) a promotion may name at most. */
export const MAX_SCOPE = 100
/** The longest a promotion may run. */
export const MAX_DAYS = 366
/** Titles' lengths in characters. */
export const MAX_TITLE_ZH = 40
export const MAX_TITLE_EN = 80

const DAY_MS = 86_400_000

/** A kind's locale key below `marketing.promotions.kinds`. */
export function promotionKindKey(kind: PromotionKind): 'tiered' | 'percentOff' {
  return kind === PromotionKind.PERCENT_OFF ? 'percentOff' : 'tiered'
}

/** One tier in words: "满50减5" (or "¥5 off over ¥50"). */
export function tierText(tier: Pick<PromotionTier, 'thresholdFen' | 'amountOffFen'>, say: Say): string {
  return say('marketing.terms.threshold', {
    threshold: shortYuan(tier.thresholdFen),
    amount: shortYuan(tier.amountOffFen),
  })
}

/** What the promotion does: "满50减5，满100减15" or "8折" (English: "20% off"). */
export function promotionSummary(p: Pick<Promotion, 'kind' | 'tiers' | 'percentOff'>, say: Say): string {
  if (p.kind === PromotionKind.PERCENT_OFF) {
    return say('marketing.terms.percentOff', { zhe: zhe(p.percentOff), percent: p.percentOff })
  }
  if (p.kind === PromotionKind.TIERED) {
    return p.tiers.map((x) => tierText(x, say)).join(say('marketing.promotions.tierJoin'))
  }
  return ''
}

/** What it counts for: "全部商品", "3 个商品", "2 个分类", "3 个商品、2 个分类". */
export function scopeText(p: Pick<Promotion, 'products' | 'categories'>, say: Say): string {
  const products = p.products.length
  const categories = p.categories.length
  if (products && categories) return say('marketing.promotions.scope.both', { products, categories })
  if (products) return say('marketing.promotions.scope.products', { n: products })
  if (categories) return say('marketing.promotions.scope.categories', { n: categories })
  return say('marketing.promotions.scope.all')
}

/** Where a promotion stands: stopped by staff, or by its dates against now. */
export type PromotionStatus = 'running' | 'scheduled' | 'ended' | 'stopped'

/** How a status is coloured (Element Plus tag types). */
export const STATUS_TAG: Record<PromotionStatus, 'success' | 'primary' | 'info'> = {
  running: 'success',
  scheduled: 'primary',
  ended: 'info',
  stopped: 'info',
}

/** Its start and end in milliseconds (0 when unset). */
export function windowOf(p: Pick<Promotion, 'startTime' | 'endTime'>): { start: number; end: number } {
  return {
    start: p.startTime ? timestampMs(p.startTime) : 0,
    end: p.endTime ? timestampMs(p.endTime) : 0,
  }
}

export function promotionStatus(p: Pick<Promotion, 'state' | 'startTime' | 'endTime'>, nowMs: number): PromotionStatus {
  if (p.state === PromotionState.STOPPED) return 'stopped'
  const { start, end } = windowOf(p)
  if (nowMs < start) return 'scheduled'
  if (nowMs >= end) return 'ended'
  return 'running'
}

/** Whether it may still be stopped: stopping one that ended, or was stopped, changes nothing. */
export function canStop(p: Promotion, nowMs: number): boolean {
  const s = promotionStatus(p, nowMs)
  return s === 'running' || s === 'scheduled'
}

/** Whether it may still change: a stopped promotion never does (the server refuses). */
export function canEdit(p: Promotion): boolean {
  return p.state !== PromotionState.STOPPED
}

// ---- local times: the pickers' "YYYY-MM-DD HH:mm:ss", in the browser's time zone ----

const pad = (n: number) => String(n).padStart(2, '0')

/** An instant as the pickers hold it: "2026-12-01 09:30:00". */
export function localDateTime(ms: number): string {
  const d = new Date(ms)
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  )
}

/** "2026-12-01 09:30[:00]" (or a date alone) → milliseconds; NaN for anything else. */
export function parseLocal(s: string | null | undefined): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec((s ?? '').trim())
  if (!m) return NaN
  const [, y, mo, d, h = '0', mi = '0', sec = '0'] = m
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec))
  return date.getMonth() === Number(mo) - 1 ? date.getTime() : NaN
}

/** An instant as the list shows it: "2026-12-01 09:30". */
export function shortDateTime(ms: number): string {
  return localDateTime(ms).slice(0, 16)
}

/** "2026-12-01 00:00 至 2026-12-31 23:59". */
export function periodText(p: Pick<Promotion, 'startTime' | 'endTime'>, say: Say): string {
  const { start, end } = windowOf(p)
  return say('marketing.validity.range', { from: shortDateTime(start), until: shortDateTime(end) })
}

// ---- the create form ----

/** One tier as the form edits it, in yuan (null: nothing typed). */
export interface TierForm {
  threshold: number | null
  amountOff: number | null
}

/** The create dialog's state. Amounts in yuan; `discount` in 折; times local "YYYY-MM-DD HH:mm:ss". */
export interface PromotionForm {
  titleZh: string
  titleEn: string
  kind: PromotionKind
  tiers: TierForm[]
  /** PERCENT_OFF: 1 to 9.9 折. */
  discount: number | null
  scope: 'all' | 'some'
  products: string[]
  categories: string[]
  start: string | null
  end: string | null
}

/** A blank form: one empty tier, 8折, the whole menu, from today's start to the end of six days on. */
export function blankPromotionForm(nowMs: number = Date.now()): PromotionForm {
  const today = new Date(nowMs)
  const start = new Date(today.getFullYear(), today.getMonth(), today.getDate()).getTime()
  const end = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 7).getTime() - 1000
  return {
    titleZh: '',
    titleEn: '',
    kind: PromotionKind.TIERED,
    tiers: [{ threshold: null, amountOff: null }],
    discount: 8,
    scope: 'all',
    products: [],
    categories: [],
    start: localDateTime(start),
    end: localDateTime(end),
  }
}

const fen = (yuan: number | null | undefined): bigint => (yuan === null || yuan === undefined ? 0n : toFen(yuan))
const stamp = (s: string | null) => {
  const ms = parseLocal(s)
  return Number.isNaN(ms) ? undefined : timestampFromMs(ms)
}

/** The form's tiers in fen. */
export function tiersOf(f: Pick<PromotionForm, 'tiers'>): PromotionTier[] {
  return f.tiers.map((x) =>
    create(PromotionTierSchema, { thresholdFen: fen(x.threshold), amountOffFen: fen(x.amountOff) }),
  )
}

/** The promotion the form describes, with only the fields its kind uses (the server refuses the others). */
export function toPromotion(f: PromotionForm): Promotion {
  const tiered = f.kind === PromotionKind.TIERED
  const some = f.scope === 'some'
  return create(PromotionSchema, {
    titleZh: f.titleZh.trim(),
    titleEn: f.titleEn.trim(),
    kind: f.kind,
    tiers: tiered ? tiersOf(f) : [],
    percentOff: tiered ? 0 : percentOffOf(f.discount),
    products: some ? [...f.products] : [],
    categories: some ? [...f.categories] : [],
    startTime: stamp(f.start),
    endTime: stamp(f.end),
  })
}

/** A form's errors, keyed as the server's field violations ("title_zh", "tiers.1", "end_time"). */
export type FormErrors = Record<string, string>

const V = 'marketing.promotions.violations'

function checkTitles(f: { titleZh: string; titleEn: string }, say: Say, out: FormErrors) {
  const zh = [...f.titleZh.trim()].length
  if (zh < 1) out.title_zh = say(`${V}.title_zh_REQUIRED`)
  else if (zh > MAX_TITLE_ZH) out.title_zh = say(`${V}.title_zh_TOO_LONG`, { max: MAX_TITLE_ZH })
  if ([...f.titleEn.trim()].length > MAX_TITLE_EN) out.title_en = say(`${V}.title_en_TOO_LONG`, { max: MAX_TITLE_EN })
}

/** The server's window rules: both ends, the end after the start, at most 366 days on, not over. */
function checkWindow(start: string | null, end: string | null, nowMs: number, say: Say, out: FormErrors) {
  const s = parseLocal(start)
  const e = parseLocal(end)
  if (Number.isNaN(s)) out.start_time = say(`${V}.start_time_REQUIRED`)
  if (Number.isNaN(e)) out.end_time = say(`${V}.end_time_REQUIRED`)
  if (Number.isNaN(s) || Number.isNaN(e)) return
  if (e <= s) out.end_time = say(`${V}.end_time_BEFORE_START`)
  else if (e - s > MAX_DAYS * DAY_MS) out.end_time = say(`${V}.end_time_ABOVE_MAXIMUM`, { max: MAX_DAYS })
  else if (e <= nowMs) out.end_time = say(`${V}.end_time_IN_THE_PAST`)
}

/**
 * What the server would refuse in the form, worded as it is when the server refuses it; empty
 * when it may be sent. Tiers as the server checks them: each between 0.01 and 1,000,000 yuan with
 * an amount off above 0 and below its threshold, and rising from the tier before.
 */
export function checkPromotionForm(f: PromotionForm, nowMs: number, say: Say): FormErrors {
  const out: FormErrors = {}
  checkTitles(f, say, out)
  if (!PROMOTION_KINDS.includes(f.kind)) out.kind = say(`${V}.kind`)
  if (f.kind === PromotionKind.TIERED) {
    if (f.tiers.length < 1 || f.tiers.length > MAX_TIERS) out.tiers = say(`${V}.tiers`)
    let last = { threshold: 0n, amount: 0n }
    tiersOf(f)
      .slice(0, MAX_TIERS)
      .forEach((x, i) => {
        const ok =
          x.thresholdFen >= 1n &&
          x.thresholdFen <= MAX_THRESHOLD_FEN &&
          x.amountOffFen > 0n &&
          x.amountOffFen < x.thresholdFen
        if (!ok) out[`tiers.${i}`] = say(`${V}.tier`)
        else if (x.thresholdFen <= last.threshold || x.amountOffFen <= last.amount)
          out[`tiers.${i}`] = say(`${V}.tier_NOT_RISING`)
        last = { threshold: x.thresholdFen, amount: x.amountOffFen }
      })
  }
  if (f.kind === PromotionKind.PERCENT_OFF) {
    const percent = percentOffOf(f.discount)
    if (percent < MIN_PERCENT_OFF || percent > MAX_PERCENT_OFF) out.percent_off = say(`${V}.percent_off`)
  }
  if (f.scope === 'some') {
    if (!f.products.length && !f.categories.length) out.products = say(`${V}.scope_EMPTY`)
    if (f.products.length > MAX_SCOPE) out.products = say('fields.TOO_MANY', { max: MAX_SCOPE })
    if (f.categories.length > MAX_SCOPE) out.categories = say('fields.TOO_MANY', { max: MAX_SCOPE })
  }
  checkWindow(f.start, f.end, nowMs, say, out)
  return out
}

// ---- the edit form: titles and dates ----

export interface PromotionEditForm {
  titleZh: string
  titleEn: string
  start: string | null
  end: string | null
}

export function editFormOfPromotion(p: Promotion): PromotionEditForm {
  const { start, end } = windowOf(p)
  return { titleZh: p.titleZh, titleEn: p.titleEn, start: localDateTime(start), end: localDateTime(end) }
}

/**
 * The update an edit makes: the changed fields and their update_mask paths (as the contract names
 * them), or null when nothing changed.
 */
export function promotionChanges(
  before: Promotion,
  f: PromotionEditForm,
): { promotion: Promotion; paths: string[] } | null {
  const was = editFormOfPromotion(before)
  const promotion = create(PromotionSchema, {
    name: before.name,
    titleZh: f.titleZh.trim(),
    titleEn: f.titleEn.trim(),
    startTime: stamp(f.start),
    endTime: stamp(f.end),
  })
  const paths: string[] = []
  if (promotion.titleZh !== before.titleZh) paths.push('title_zh')
  if (promotion.titleEn !== before.titleEn) paths.push('title_en')
  if (f.start !== was.start) paths.push('start_time')
  if (f.end !== was.end) paths.push('end_time')
  return paths.length ? { promotion, paths } : null
}

/** What the server would refuse in an edit: the titles, and the window when a date changed. */
export function checkPromotionEdit(before: Promotion, f: PromotionEditForm, nowMs: number, say: Say): FormErrors {
  const out: FormErrors = {}
  checkTitles(f, say, out)
  const was = editFormOfPromotion(before)
  if (f.start !== was.start || f.end !== was.end) checkWindow(f.start, f.end, nowMs, say, out)
  return out
}

// ---- the month calendar ----

/** A month of the calendar; `month` counts from 0 (January), as Date does. */
export interface Month {
  year: number
  month: number
}

export function monthOf(ms: number): Month {
  const d = new Date(ms)
  return { year: d.getFullYear(), month: d.getMonth() }
}

export function addMonths(m: Month, delta: number): Month {
  const d = new Date(m.year, m.month + delta, 1)
  return { year: d.getFullYear(), month: d.getMonth() }
}

/** The month as ListPromotions' window: from its first day's start to the next month's. */
export function monthWindow(m: Month): { start: number; end: number } {
  return { start: new Date(m.year, m.month, 1).getTime(), end: new Date(m.year, m.month + 1, 1).getTime() }
}

/** "2026-12": the month as the page's key. */
export function monthKey(m: Month): string {
  return `${m.year}-${pad(m.month + 1)}`
}

/** Whether a promotion runs at some time in [start, end). */
export function overlaps(p: Pick<Promotion, 'startTime' | 'endTime'>, start: number, end: number): boolean {
  const w = windowOf(p)
  return w.start < end && w.end > start
}

/** One promotion's bar on one day. */
export interface Segment {
  promotion: Promotion
  /** Its title shows here: the first of its days in the week (a bar's start, a Monday, the 1st). */
  label: boolean
  /** It starts, or ends, on this day (the bar's rounded ends). */
  starts: boolean
  ends: boolean
}

/** A day of the calendar: its date, whether it belongs to the month shown, and the bars on it. */
export interface CalendarDay {
  date: string
  day: number
  inMonth: boolean
  /** Its first millisecond, and the next day's. */
  start: number
  end: number
  /** The bars by lane (null: an empty lane, so a week's bars line up); at most `lanes` shown. */
  lanes: (Segment | null)[]
  /** Promotions running on the day that did not fit in the lanes shown. */
  hidden: Promotion[]
}

export type CalendarWeek = CalendarDay[]

/**
 * The month in weeks from Monday, with each promotion a bar across the days of the month it runs
 * (the days of the months around show none: the list holds the month's promotions only). Within a
 * week a promotion keeps one lane, the earliest free one, earliest start first, so its bar is
 * straight; `maxLanes` lanes show, the rest are counted on the day.
 */
export function monthCalendar(m: Month, promotions: readonly Promotion[], maxLanes = 4): CalendarWeek[] {
  const first = new Date(m.year, m.month, 1)
  const lead = (first.getDay() + 6) % 7 // days from the Monday on or before the 1st
  const last = new Date(m.year, m.month + 1, 0).getDate()
  const count = Math.ceil((lead + last) / 7) * 7
  const sorted = [...promotions].sort((a, b) => {
    const wa = windowOf(a)
    const wb = windowOf(b)
    return wa.start - wb.start || wb.end - wa.end || a.name.localeCompare(b.name)
  })
  const weeks: CalendarWeek[] = []
  for (let w = 0; w < count / 7; w++) {
    const days: CalendarDay[] = []
    for (let i = 0; i < 7; i++) {
      const d = new Date(m.year, m.month, 1 - lead + w * 7 + i)
      const start = d.getTime()
      const end = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime()
      days.push({
        date: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
        day: d.getDate(),
        inMonth: d.getMonth() === m.month,
        start,
        end,
        lanes: [],
        hidden: [],
      })
    }
    // Lanes: the column each one's lane is taken up to.
    const taken: number[] = []
    const placed: { p: Promotion; lane: number; from: number; to: number }[] = []
    for (const p of sorted) {
      const cols = days.map((d, i) => (d.inMonth && overlaps(p, d.start, d.end) ? i : -1)).filter((i) => i >= 0)
      if (!cols.length) continue
      const from = cols[0]!
      const to = cols[cols.length - 1]!
      let lane = taken.findIndex((upTo) => upTo < from)
      if (lane < 0) lane = taken.length
      taken[lane] = to
      placed.push({ p, lane, from, to })
    }
    const shown = Math.min(taken.length, maxLanes)
    for (const d of days) if (d.inMonth) d.lanes = Array.from({ length: shown }, () => null)
    for (const { p, lane, from, to } of placed) {
      const { start, end } = windowOf(p)
      for (let i = from; i <= to; i++) {
        const d = days[i]!
        if (lane >= shown) {
          d.hidden.push(p)
          continue
        }
        const starts = start >= d.start && start < d.end
        const ends = end > d.start && end <= d.end
        d.lanes[lane] = { promotion: p, label: i === from, starts, ends }
      }
    }
    weeks.push(days)
  }
  return weeks
}
