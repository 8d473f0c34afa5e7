/**
 * Promotions (促销活动) as the customer sees them before the quote: the menu's and the product
 * pages' promotional prices (the list price struck through, a "8折" tag), the banner of what runs
 * ("午市满减：满50减5，满100减15"), and the cart's hint of the next full-reduction tier ("再买 ¥12
 * 可减 ¥15"). In the main package because two subpackages (ordering, catalog) show them.
 *
 * The rule is the server's, to the fen (marketing's `promotions::apply`, which the quote uses): a
 * time-limited discount (percent_off) covers a product when its product_ids name it, or its
 * category_ids name the product's category, or both lists are empty; each unit then costs
 * `price − floor(price × percent_off / 100)`; of several, the largest reduction wins (of equal
 * ones, the first listed). A full reduction (tiered) counts its lines in scope after those unit
 * discounts and takes the amount of the highest tier reached; of several, the basket takes the
 * one that takes most. The quote stays what the customer pays: this is what the menu shows.
 *
 * Loading never fails the page: a shop without marketing, a customer who cannot be logged in or
 * a failed call all give no promotions, and the prices read as list prices.
 */
import type { components } from '../core/api/schema';
import { api } from '../core/api';
import * as auth from '../core/auth';
import * as boot from '../core/boot';
import { format, rate, strings, yuan, yuanShort } from '../core/locale/index';
import { isEnabled } from '../core/modules';
import type { Menu, MenuProduct } from './catalog';

export type Promotion = components['schemas']['PromotionDto'];
export type Tier = components['schemas']['TierDto'];

const T = strings.promotions;

export const PERCENT_OFF = 'percent_off';
export const TIERED = 'tiered';

let cached: Promotion[] | undefined;

/**
 * The promotions running now (GET /api/v1/marketing/promotions, which takes a customer's token):
 * none when the shop has marketing off, no customer session can be had, or the call fails.
 */
export async function loadPromotions(config: boot.BootConfig | undefined = boot.config()): Promise<Promotion[]> {
  cached = [];
  if (!isEnabled(config, 'marketing')) return cached;
  try {
    if (!(await auth.ensureSession())) return cached;
    cached = (await api.get('/api/v1/marketing/promotions')).promotions ?? [];
  } catch {
    // Prices then read as list prices; the quote still takes what runs off.
  }
  return cached;
}

/** The promotions loaded last (by the menu, the product list), if any load happened yet. */
export function lastPromotions(): Promotion[] | undefined {
  return cached;
}

/** Forgets what was loaded (tests). */
export function resetPromotions(): void {
  cached = undefined;
}

/** Those not over at `now` (ms): the list is what ran when it was loaded. */
export function running(promos: readonly Promotion[], now: number = Date.now()): Promotion[] {
  return promos.filter((p) => {
    const end = Date.parse(p.end_time);
    return Number.isNaN(end) || end > now;
  });
}

/** Whether `p` covers a product of category `categoryId` ('' when not known). */
export function covers(p: Pick<Promotion, 'product_ids' | 'category_ids'>, productId: string, categoryId: string): boolean {
  const products = p.product_ids ?? [];
  const categories = p.category_ids ?? [];
  return (
    (products.length === 0 && categories.length === 0) ||
    products.includes(productId) ||
    (categoryId !== '' && categories.includes(categoryId))
  );
}

/** What one unit at `unitFen` costs less at `percent` off (rounded down, as the server does). */
export function unitOff(unitFen: number, percent: number): number {
  const p = Math.max(0, Math.min(100, Math.trunc(percent)));
  return Math.floor((Math.max(0, Math.trunc(unitFen)) * p) / 100);
}

export interface UnitPrice {
  /** What a unit costs with the best time-limited discount. */
  fen: number;
  /** Its list price. */
  listFen: number;
  /** The promotion that lowers it; none when nothing does. */
  promotion?: Promotion;
}

/** One unit of a product at `listFen` under the running promotions. */
export function unitPrice(promos: readonly Promotion[], productId: string, categoryId: string, listFen: number): UnitPrice {
  let best: Promotion | undefined;
  let bestOff = 0;
  for (const p of promos) {
    if (p.kind !== PERCENT_OFF || !covers(p, productId, categoryId)) continue;
    const off = unitOff(listFen, p.percent_off);
    // Strictly more: of equal reductions the first listed wins, as on the server.
    if (off > bestOff) {
      best = p;
      bestOff = off;
    }
  }
  return best ? { fen: listFen - bestOff, listFen, promotion: best } : { fen: listFen, listFen };
}

/** A time-limited discount's tag: "8折", "8.5折". */
export function tag(p: Pick<Promotion, 'percent_off'>): string {
  return format(T.tag, { rate: rate(p.percent_off) });
}

/** Which product is in which category: the menu's sections are its categories. */
export function categoriesOf(menu: Menu | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of menu?.sections ?? []) for (const p of s.products) if (!out.has(p.id)) out.set(p.id, s.id);
  return out;
}

export interface ProductPrice {
  /** Lowest price of the SKUs offered (the available ones; all when none is), promotions in. */
  min: number;
  max: number;
  /** The lowest list price, to strike through; equal to `min` when nothing lowers it. */
  listMin: number;
  /** "8折" when a promotion lowers the price; empty otherwise. */
  tag: string;
  /** That promotion's title; empty otherwise. */
  title: string;
}

/** A product's price range as the menu shows it (as `catalog.priceRange`, promotions in). */
export function productPrice(promos: readonly Promotion[], p: MenuProduct, categoryId: string): ProductPrice {
  const skus = p.skus.some((s) => s.available) ? p.skus.filter((s) => s.available) : p.skus;
  if (!skus.length) return { min: 0, max: 0, listMin: 0, tag: '', title: '' };
  const prices = skus.map((s) => unitPrice(promos, p.id, categoryId, s.price_fen));
  const cheapest = prices.reduce((a, b) => (b.fen < a.fen ? b : a));
  const listMin = Math.min(...prices.map((x) => x.listFen));
  const promotion = prices.find((x) => x.promotion)?.promotion;
  return {
    min: cheapest.fen,
    max: Math.max(...prices.map((x) => x.fen)),
    listMin,
    tag: promotion ? tag(promotion) : '',
    title: promotion?.title_zh ?? '',
  };
}

export interface PriceView {
  /** "¥20.00": what the customer pays per unit (from, with `from`). */
  price: string;
  /** "¥25.00" to strike through; empty when no promotion lowers the price. */
  listPrice: string;
  /** "8折"; empty without a promotion. */
  tag: string;
}

/** What a price reads as on screen: the promotional price, and the list price when it differs. */
export function priceView(fen: number, listFen: number, promoTag: string): PriceView {
  const lowered = fen < listFen;
  return { price: yuan(fen), listPrice: lowered ? yuan(listFen) : '', tag: lowered ? promoTag : '' };
}

/** "满50减5，满100减15". */
export function tierRules(tiers: readonly Tier[]): string {
  return tiers
    .map((t) => format(T.tier, { threshold: yuanShort(t.threshold_fen), amount: yuanShort(t.amount_off_fen) }))
    .join(T.tierSeparator);
}

/**
 * The banner's lines, in the order listed: "午市满减：满50减5，满100减15" for a full reduction,
 * "新品尝鲜：全场8折" / "新品尝鲜：指定商品8折" for a time-limited discount.
 */
export function bannerLines(promos: readonly Promotion[]): string[] {
  const out: string[] = [];
  for (const p of promos) {
    if (p.kind === TIERED && p.tiers.length) {
      out.push(format(T.tiered, { title: p.title_zh, tiers: tierRules(p.tiers) }));
    } else if (p.kind === PERCENT_OFF && p.percent_off > 0) {
      const all = !(p.product_ids ?? []).length && !(p.category_ids ?? []).length;
      out.push(format(T.percent, { title: p.title_zh, scope: all ? T.scopeAll : T.scopeSome, rate: rate(p.percent_off) }));
    }
  }
  return out;
}

/** A line of the basket: its product's category ('' when not known) and list price per unit. */
export interface BasketLine {
  productId: string;
  categoryId: string;
  unitFen: number;
  quantity: number;
}

/** The lines with the time-limited discounts taken off each unit. */
export function repriced(promos: readonly Promotion[], lines: readonly BasketLine[]): BasketLine[] {
  return lines.map((l) => ({ ...l, unitFen: unitPrice(promos, l.productId, l.categoryId, l.unitFen).fen }));
}

/** What the lines come to after the time-limited discounts (the menu's cart bar). */
export function subtotal(promos: readonly Promotion[], lines: readonly BasketLine[]): number {
  return repriced(promos, lines).reduce((n, l) => n + l.unitFen * Math.max(0, l.quantity), 0);
}

/** What the lines in `p`'s scope come to (already repriced). */
function eligible(p: Promotion, lines: readonly BasketLine[]): number {
  return lines.filter((l) => covers(p, l.productId, l.categoryId)).reduce((n, l) => n + l.unitFen * Math.max(0, l.quantity), 0);
}

/** What the best full reduction takes off the lines, as the quote will. */
export function tieredOff(promos: readonly Promotion[], lines: readonly BasketLine[]): number {
  const after = repriced(promos, lines);
  let best = 0;
  for (const p of promos) {
    if (p.kind !== TIERED) continue;
    const amount = eligible(p, after);
    const reached = p.tiers.filter((t) => t.threshold_fen <= amount).reduce((m, t) => Math.max(m, t.amount_off_fen), 0);
    best = Math.max(best, Math.min(reached, amount));
  }
  return best;
}

export interface TierHint {
  /** What more the lines in scope must come to. */
  gapFen: number;
  /** What the tier then takes off. */
  offFen: number;
  /** "再买 ¥12 可减 ¥15". */
  text: string;
}

/**
 * The nearest tier that would take more off than the basket gets now (none when the top is
 * reached or nothing is tiered): of several promotions, the one needing the least more, and of
 * equal gaps the one taking most.
 */
export function nextTier(promos: readonly Promotion[], lines: readonly BasketLine[]): TierHint | undefined {
  const after = repriced(promos, lines);
  const now = tieredOff(promos, lines);
  let hint: { gapFen: number; offFen: number } | undefined;
  for (const p of promos) {
    if (p.kind !== TIERED) continue;
    const amount = eligible(p, after);
    const next = [...p.tiers]
      .sort((a, b) => a.threshold_fen - b.threshold_fen)
      .find((t) => t.threshold_fen > amount && t.amount_off_fen > now);
    if (!next) continue;
    const gapFen = next.threshold_fen - amount;
    if (!hint || gapFen < hint.gapFen || (gapFen === hint.gapFen && next.amount_off_fen > hint.offFen)) {
      hint = { gapFen, offFen: next.amount_off_fen };
    }
  }
  return hint && { ...hint, text: format(T.nextTier, { gap: yuanShort(hint.gapFen), amount: yuanShort(hint.offFen) }) };
}
