// 库存预警值 (catalog's `low_stock_threshold`): a product whose limited SKUs run down to the shop's
// threshold is flagged on the products page, so staff restock before the mini-program says 售罄.
import type { Product } from '@/gen/minimodules/catalog/v1/catalog_pb'
import type { Module } from '@/gen/minimodules/tenant/v1/module_pb'

/** The spec's default, for a user who may not read the shop's config. */
export function defaultThreshold(specs: readonly Module[]): number {
  const schema = specs.find((m) => m.id === 'catalog')?.configSchema as
    { properties?: { low_stock_threshold?: { default?: unknown } } } | undefined
  const d = schema?.properties?.low_stock_threshold?.default
  return typeof d === 'number' ? d : 0
}

/** The shop's threshold from its stored catalog config, else `fallback`. */
export function thresholdOf(config: unknown, fallback: number): number {
  const v = (config as { low_stock_threshold?: unknown } | undefined)?.low_stock_threshold
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : fallback
}

/** Whether any limited SKU of `p` is at or below `threshold` (sold out included). */
export function lowOnStock(p: Product, threshold: number): boolean {
  return p.skus.some((s) => !s.unlimited && Number(s.stock) <= threshold)
}
