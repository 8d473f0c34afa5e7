import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { checkConfig, fieldsOf, fromModel, humanise, toModel } from './schema'

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
    expect(byKey.fulfilment_modes?.enumLabels).toEqual({ dine_in: '堂食', takeaway: '外带', delivery: '外送' })
    expect(byKey.min_order_fen).toMatchObject({
      kind: 'money',
      minimum: 0,
      maximum: 10000000,
      title: '起送金额（元）',
    })
    expect(byKey.auto_accept?.kind).toBe('boolean')
    expect(byKey.opening_hours?.kind).toBe('rows')
    expect(byKey.opening_hours?.columns.map((c) => [c.key, c.title, c.kind])).toEqual([
      ['start', '开始', 'time'],
      ['end', '结束', 'time'],
    ])
  })

  it("keeps the spec's order even when the schema arrives with its keys sorted", () => {
    const ordering = specs.find((s) => s.id === 'ordering')?.config_schema as Record<string, unknown>
    const props = ordering.properties as Record<string, unknown>
    // As a protobuf Struct delivers it: keys in alphabetical order.
    const sorted = {
      ...ordering,
      properties: Object.fromEntries(
        Object.keys(props)
          .sort()
          .map((k) => [k, props[k]]),
      ),
    }
    expect(fieldsOf(sorted).map((f) => f.key)).toEqual(ordering['x-order'])
  })

  it('words options in the chosen language', () => {
    const ordering = specs.find((s) => s.id === 'ordering')
    const pay = fieldsOf(ordering?.config_schema, true).find((f) => f.key === 'payment_methods')
    expect(pay?.enumLabels).toEqual({ wechat_pay: 'WeChat Pay', counter: 'Pay at the counter' })
  })

  it('lists every property of every shipped spec in its x-order, and every enum has labels', () => {
    for (const s of specs) {
      const schema = s.config_schema as { properties?: Record<string, Record<string, unknown>>; 'x-order'?: string[] }
      const keys = Object.keys(schema.properties ?? {})
      if (!keys.length) continue
      expect([...(schema['x-order'] ?? [])].sort(), s.id).toEqual([...keys].sort())
      for (const f of fieldsOf(schema)) {
        if ((f.kind === 'enum' || f.kind === 'multiEnum') && f.enumValues.some((v) => typeof v === 'string'))
          expect(Object.keys(f.enumLabels).sort(), `${s.id}.${f.key}`).toEqual(f.enumValues.map(String).sort())
      }
    }
  })

  it('asks money in yuan and stores fen', () => {
    const fields = fieldsOf({ properties: { fee: { type: 'integer', 'x-unit': 'fen', minimum: 0, maximum: 100000 } } })
    const model = toModel(fields, { fee: 250 })
    expect(model.fee).toBe(2.5)
    model.fee = 12.34
    expect(fromModel(fields, model).config).toEqual({ fee: 1234 })
    expect(checkConfig(fields, { fee: 100001 })).toEqual({
      fee: { reason: 'MONEY_OUT_OF_RANGE', params: { min_yuan: '0', max_yuan: '1000' } },
    })
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

describe('checkConfig', () => {
  const fields = fieldsOf({
    type: 'object',
    properties: {
      horizon_days: { type: 'integer', minimum: 1, maximum: 180 },
      lead_time_minutes: { type: 'integer', minimum: 0, maximum: 10080 },
      member_name: { type: 'string', maxLength: 4 },
    },
  })

  it('names the bound a number crosses, with both ends for the wording', () => {
    expect(checkConfig(fields, { horizon_days: 0, lead_time_minutes: 99999, member_name: '会员' })).toEqual({
      horizon_days: { reason: 'BELOW_MINIMUM', params: { min: '1', max: '180' } },
      lead_time_minutes: { reason: 'ABOVE_MAXIMUM', params: { min: '0', max: '10080' } },
    })
  })

  it('counts characters, not bytes, and passes what is within bounds', () => {
    expect(checkConfig(fields, { horizon_days: 14, member_name: '尊贵会员' })).toEqual({})
    expect(checkConfig(fields, { member_name: '尊贵的会员' })).toEqual({
      member_name: { reason: 'TOO_LONG', params: { max: '4' } },
    })
    expect(checkConfig(fields, { horizon_days: 1.5 })).toEqual({ horizon_days: { reason: 'WRONG_TYPE', params: {} } })
  })
})

describe('shipped formats', () => {
  it('every x-format a module spec names is worded in both languages', async () => {
    const { default: zh } = await import('@/locales/zh-CN')
    const { default: en } = await import('@/locales/en-US')
    const formats = new Set<string>()
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk)
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'x-format' && typeof x === 'string') formats.add(x)
          else walk(x)
        }
      }
    }
    specs.forEach((s) => walk(s.config_schema))
    expect(formats.size).toBeGreaterThan(0)
    for (const f of formats) {
      expect(zh.fields, f).toHaveProperty(`INVALID_FORMAT_${f}`)
      expect(en.fields, f).toHaveProperty(`INVALID_FORMAT_${f}`)
    }
  })
})

describe('defaults from a reactive store', () => {
  it('are copied without DataCloneError', async () => {
    const { reactive } = await import('vue')
    // As ws.specs holds it: the spec's schema inside a Pinia store is a reactive proxy.
    const spec = reactive({
      properties: {
        reminder_keys: {
          type: 'object',
          default: { service: 'thing1', time: 'time2' },
          properties: { service: { type: 'string' }, time: { type: 'string' } },
        },
      },
    })
    const fields = fieldsOf(spec)
    expect(() => structuredClone(fields[0]?.default)).toThrow()
    const model = toModel(fields, {})
    expect(model).toEqual({ reminder_keys: { service: 'thing1', time: 'time2' } })
  })
})
