/**
 * The published menu (catalog module's BFF route) and the shaping both the catalog and the
 * ordering subpackages need: price ranges, sold-out, search. In the main package because two
 * subpackages share it (a subpackage cannot import another's code).
 */
import type { components } from '../core/api/schema';
import { api } from '../core/api';
import * as boot from '../core/boot';

export type Menu = components['schemas']['MenuDto'];
export type MenuSection = components['schemas']['MenuSectionDto'];
export type MenuProduct = components['schemas']['MenuProductDto'];
export type Sku = components['schemas']['SkuDto'];

let cached: Menu | undefined;

/** The menu as the shop shows it; the last one fetched stays in memory for pages opened next. */
export async function getMenu(): Promise<Menu> {
  cached = shown(await api.get('/api/v1/menu'), showSoldOut(boot.config()));
  return cached;
}

/** The shop's 显示已售罄商品 (catalog's public `show_sold_out`, on by default). */
export function showSoldOut(config: boot.BootConfig | undefined): boolean {
  const c: Record<string, unknown> = config?.modules.find((m) => m.id === 'catalog')?.config ?? {};
  return typeof c.show_sold_out === 'boolean' ? c.show_sold_out : true;
}

/** The menu with sold-out products left out when the shop hides them (greyed out otherwise). */
export function shown(menu: Menu, showSold: boolean): Menu {
  if (showSold) return menu;
  return { ...menu, sections: menu.sections.map((s) => ({ ...s, products: s.products.filter((p) => !soldOut(p)) })) };
}

export function lastMenu(): Menu | undefined {
  return cached;
}

/** Lowest and highest price of the product's available SKUs (all SKUs when none is). */
export function priceRange(p: MenuProduct): { min: number; max: number } {
  const skus = p.skus.some((s) => s.available) ? p.skus.filter((s) => s.available) : p.skus;
  const prices = skus.map((s) => s.price_fen);
  return prices.length ? { min: Math.min(...prices), max: Math.max(...prices) } : { min: 0, max: 0 };
}

export function soldOut(p: MenuProduct): boolean {
  return !p.skus.some((s) => s.available);
}

/** Whether the product needs the SKU picker (more than one SKU, or spec values to show). */
export function needsPicker(p: MenuProduct): boolean {
  return p.skus.length > 1 || p.skus.some((s) => s.specs.length > 0);
}

/** Products whose name (zh or en), description or tag contains `keyword`, case-insensitively. */
export function search(menu: Menu, keyword: string): MenuProduct[] {
  const k = keyword.trim().toLowerCase();
  if (!k) return [];
  const seen = new Set<string>();
  const out: MenuProduct[] = [];
  for (const s of menu.sections) {
    for (const p of s.products) {
      if (seen.has(p.id)) continue;
      const hay = [p.name_zh, p.name_en, p.description, ...p.tags].join('\n').toLowerCase();
      if (hay.includes(k)) {
        seen.add(p.id);
        out.push(p);
      }
    }
  }
  return out;
}

/** Finds a product by id anywhere on the menu. */
export function findProduct(menu: Menu, id: string): MenuProduct | undefined {
  for (const s of menu.sections) {
    const p = s.products.find((x) => x.id === id);
    if (p) return p;
  }
  return undefined;
}

/** Spec values as one label: "大杯 / 少冰". */
export function specLabel(sku: Sku): string {
  return sku.specs.map((s) => s.value).join(' / ');
}
