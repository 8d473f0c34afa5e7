import { describe, expect, it } from 'vitest'
import { create } from '@bufbuild/protobuf'
import { ProductSchema, SkuSchema } from '@/gen/minimodules/catalog/v1/catalog_pb'
import { ModuleSchema } from '@/gen/minimodules/tenant/v1/module_pb'
import { defaultThreshold, lowOnStock, thresholdOf } from './stock'

const product = (...skus: { stock: number; unlimited?: boolean }[]) =>
  create(ProductSchema, {
    skus: skus.map((s) => create(SkuSchema, { stock: BigInt(s.stock), unlimited: s.unlimited ?? false })),
  })

describe('库存预警值', () => {
  it('flags a product when one limited SKU is at or below the threshold', () => {
    expect(lowOnStock(product({ stock: 20 }, { stock: 5 }), 5)).toBe(true)
    expect(lowOnStock(product({ stock: 20 }, { stock: 6 }), 5)).toBe(false)
    expect(lowOnStock(product({ stock: 0, unlimited: true }), 5)).toBe(false)
    expect(lowOnStock(product({ stock: 0 }), 0)).toBe(true)
  })

  it("takes the shop's threshold, else the spec's default", () => {
    const specs = [
      create(ModuleSchema, {
        id: 'catalog',
        configSchema: { type: 'object', properties: { low_stock_threshold: { type: 'integer', default: 5 } } },
      }),
    ]
    expect(defaultThreshold(specs)).toBe(5)
    expect(thresholdOf({ low_stock_threshold: 12 }, 5)).toBe(12)
    expect(thresholdOf({}, 5)).toBe(5)
    expect(thresholdOf({ low_stock_threshold: 'x' }, 5)).toBe(5)
  })
})
