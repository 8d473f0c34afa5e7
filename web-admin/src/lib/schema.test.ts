import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fieldsOf, fromModel, humanise, toModel } from './schema'

// The real module specs: every config schema the platform ships must render as real fields.
const modulesDir = resolve(__dirname, '../../../crates/modules')
const specs = readdirSync(modulesDir).flatMap((d) => {
  try {
    return [
      JSON.parse(readFileSync(join(modulesDir, d, 'module.json'), 'utf8')) as { id: string; config_schema: unknown },
    ]
  } catch {
    return []
  }
})

describe('fieldsOf', () => {
  it('renders every shipped module schema without falling back to raw JSON', () => {
    expect(specs.length).toBeGreaterThanOrEqual(4)
    for (const s of specs) {
      const fields = fieldsOf(s.config_schema)
      expect(fields.filter((f) => f.kind === 'json').map((f) => `${s.id}.${f.key}`)).toEqual([])
    }
  })

  it('maps the ordering schema to the right widgets', () => {
    const ordering = specs.find((s) => s.id === 'ordering')
    const byKey = Object.fromEntries(fieldsOf(ordering?.config_schema).map((f) => [f.key, f]))
    expect(byKey.fulfilment_modes?.kind).toBe('multiEnum')
    expect(byKey.fulfilment_modes?.enumValues).toEqual(['dine_in', 'takeaway', 'delivery'])
    expect(byKey.min_order_fen).toMatchObject({
      kind: 'integer',
      minimum: 0,
      maximum: 10000000,
      title: '起送金额（分）',
    })
    expect(byKey.auto_accept?.kind).toBe('boolean')
    expect(byKey.opening_hours?.kind).toBe('rows')
    expect(byKey.opening_hours?.columns.map((c) => c.key)).toEqual(['start', 'end'])
  })

  it('uses English titles made from keys when asked', () => {
    expect(fieldsOf({ properties: { min_order_fen: { type: 'integer', title: '起送' } } }, true)[0]?.title).toBe(
      'Min order fen',
    )
    expect(humanise('show_sold_out')).toBe('Show sold out')
  })

  it('falls back to JSON text for shapes it does not know', () => {
    const [f] = fieldsOf({ properties: { nested: { type: 'object' } } })
    expect(f?.kind).toBe('json')
  })
})

describe('toModel / fromModel', () => {
  const fields = fieldsOf({
    properties: {
      a: { type: 'integer', default: 5 },
      b: { type: 'string', default: 'x' },
      c: { type: 'object', default: { k: 1 } },
    },
  })

  it('fills defaults and round-trips', () => {
    const model = toModel(fields, { b: 'stored' })
    expect(model).toEqual({ a: 5, b: 'stored', c: '{\n  "k": 1\n}' })
    expect(fromModel(fields, model)).toEqual({ config: { a: 5, b: 'stored', c: { k: 1 } }, errors: {} })
  })

  it('reports JSON text that does not parse', () => {
    const model = toModel(fields, {})
    model.c = '{oops'
    expect(fromModel(fields, model).errors).toEqual({ c: 'JSON' })
  })
})
