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

describe('group fields', () => {
  const schema = {
    properties: {
      keys: {
        type: 'object',
        title: '模板字段',
        default: { service: 'thing1', time: 'time2' },
        properties: { service: { type: 'string', title: '服务' }, time: { type: 'string' } },
      },
      counts: { type: 'object', properties: { n: { type: 'integer' } } },
    },
  }

  it('edits a flat object of strings as a group of inputs; other objects stay JSON', () => {
    const [keys, counts] = fieldsOf(schema)
    expect(keys?.kind).toBe('group')
    expect(keys?.columns.map((c) => [c.key, c.title])).toEqual([
      ['service', '服务'],
      ['time', 'Time'],
    ])
    expect(counts?.kind).toBe('json')
  })

  it('starts from the default and round-trips the object', () => {
    const fields = fieldsOf(schema).slice(0, 1)
    const model = toModel(fields, {})
    expect(model).toEqual({ keys: { service: 'thing1', time: 'time2' } })
    ;(model.keys as Record<string, string>).time = 'date3'
    expect(fromModel(fields, model).config).toEqual({ keys: { service: 'thing1', time: 'date3' } })
    expect(toModel(fields, { keys: { service: 's9', time: 't9' } }).keys).toEqual({ service: 's9', time: 't9' })
  })

  it('without a default, starts from empty strings', () => {
    const [f] = fieldsOf({ properties: { k: { type: 'object', properties: { a: { type: 'string' } } } } })
    expect(f?.default).toEqual({ a: '' })
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
