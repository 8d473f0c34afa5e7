// Turns a module's config JSON Schema into form fields, so no module needs a hand-written form.
// Handles what module specs use: booleans, integers and numbers with bounds, strings with length,
// pattern or enum, arrays of enum strings (multi-select), arrays of flat objects (a row editor), flat
// objects of strings (a group of labelled inputs).
// Anything else is edited as JSON text, so a new schema shape still gets a (plain) field.
// The spec's own words and order come through its extensions: `x-order` (the properties in the
// order the form shows them: JSON objects on the wire have none), `x-enum-labels` (each option as
// `[zh-CN, en]`), `x-unit: "fen"` (money kept in fen, asked in yuan) and `x-format: "time"`
// (a time picker).

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue }
export type JsonObject = { [k: string]: JsonValue }

export type FieldKind =
  | 'boolean'
  | 'integer'
  | 'number'
  | 'money'
  | 'time'
  | 'string'
  | 'text'
  | 'enum'
  | 'multiEnum'
  | 'rows'
  | 'group'
  | 'json'

export interface FieldSpec {
  key: string
  title: string
  description: string
  kind: FieldKind
  enumValues: (string | number)[]
  /** Each option's words in the user's language (`x-enum-labels`); the raw value where none. */
  enumLabels: Record<string, string>
  minimum?: number
  maximum?: number
  maxLength?: number
  pattern?: string
  /** For `rows`: the columns of each row; for `group`: the object's properties. */
  columns: FieldSpec[]
  required: boolean
  /** A new row's value for `rows`; the default for the rest. */
  default: JsonValue | undefined
}

type Schema = { [k: string]: unknown }

function obj(v: unknown): Schema {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Schema) : {}
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined
}

/** "min_order_fen" → "Min order fen": a readable English title where the schema has only Chinese. */
export function humanise(key: string): string {
  const s = key.replace(/[_-]+/g, ' ').trim()
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/** An object schema with properties, none of them an object or array itself. */
function flatObject(s: Schema): boolean {
  const props = Object.values(obj(s.properties))
  return (
    s.type === 'object' && props.length > 0 && props.every((p) => !['object', 'array'].includes(String(obj(p).type)))
  )
}

function kindOf(s: Schema): FieldKind {
  const type = s.type
  if (Array.isArray(s.enum)) return 'enum'
  if (type === 'boolean') return 'boolean'
  if (type === 'integer' && s['x-unit'] === 'fen') return 'money'
  if (type === 'string' && s['x-format'] === 'time') return 'time'
  if (type === 'integer') return 'integer'
  if (type === 'number') return 'number'
  if (type === 'string') return num(s.maxLength) !== undefined && (num(s.maxLength) ?? 0) > 100 ? 'text' : 'string'
  if (type === 'array') {
    const items = obj(s.items)
    if (Array.isArray(items.enum)) return 'multiEnum'
    if (flatObject(items)) return 'rows'
  }
  // A group's inputs are text boxes: only string properties qualify.
  if (flatObject(s) && Object.values(obj(s.properties)).every((p) => obj(p).type === 'string')) return 'group'
  return 'json'
}

function field(key: string, s: Schema, required: boolean, english: boolean): FieldSpec {
  const kind = kindOf(s)
  const title = typeof s.title === 'string' && !english ? s.title : humanise(key)
  const items = obj(s.items)
  const inner = kind === 'rows' ? items : kind === 'group' ? s : {}
  const innerRequired = new Set(Array.isArray(inner.required) ? (inner.required as string[]) : [])
  const columns = ordered(inner).map(([k, p]) => field(k, obj(p), innerRequired.has(k), english))
  const enumSource = kind === 'multiEnum' ? items.enum : s.enum
  const labels = obj(kind === 'multiEnum' ? (items['x-enum-labels'] ?? s['x-enum-labels']) : s['x-enum-labels'])
  const enumLabels: Record<string, string> = {}
  for (const [v, l] of Object.entries(labels)) {
    if (Array.isArray(l) && typeof l[0] === 'string') enumLabels[v] = String((english ? l[1] : l[0]) ?? l[0])
  }
  return {
    key,
    title,
    description: typeof s.description === 'string' ? s.description : '',
    kind,
    enumValues: Array.isArray(enumSource) ? (enumSource as (string | number)[]) : [],
    enumLabels,
    minimum: num(s.minimum),
    maximum: num(s.maximum),
    maxLength: num(s.maxLength),
    pattern: typeof s.pattern === 'string' ? s.pattern : undefined,
    columns,
    required,
    default:
      kind === 'rows' || (kind === 'group' && s.default === undefined)
        ? Object.fromEntries(columns.map((c) => [c.key, c.default ?? '']))
        : (s.default as JsonValue | undefined),
  }
}

/** An object schema's properties in its `x-order`; any it does not list follow. */
function ordered(s: Schema): [string, unknown][] {
  const order = Array.isArray(s['x-order']) ? (s['x-order'] as string[]) : []
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length)
  // A stable sort: properties it does not list keep their own order.
  return Object.entries(obj(s.properties)).sort(([a], [b]) => rank(a) - rank(b))
}

/** The form fields of an object schema, in the spec's order. */
export function fieldsOf(schema: unknown, english = false): FieldSpec[] {
  const s = obj(schema)
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : [])
  return ordered(s).map(([k, p]) => field(k, obj(p), required.has(k), english))
}

/**
 * A deep copy of JSON data. Not structuredClone: a default taken from a spec in a Pinia store is a
 * reactive proxy, which structuredClone refuses (DataCloneError).
 */
export function cloneJson<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T)
}

/** A form model: the stored config over the schema's defaults; `json` fields as text. */
export function toModel(fields: FieldSpec[], config: JsonObject): Record<string, unknown> {
  const model: Record<string, unknown> = {}
  for (const f of fields) {
    const v = config[f.key] ?? f.default ?? null
    model[f.key] =
      f.kind === 'json'
        ? JSON.stringify(v, null, 2)
        : f.kind === 'money' && typeof v === 'number'
          ? v / 100
          : cloneJson(v)
  }
  return model
}

/** Back from the form model to a config; JSON text that does not parse is reported by key. */
export function fromModel(
  fields: FieldSpec[],
  model: Record<string, unknown>,
): { config: JsonObject; errors: Record<string, string> } {
  const config: JsonObject = {}
  const errors: Record<string, string> = {}
  for (const f of fields) {
    const v = model[f.key]
    if (f.kind === 'json') {
      try {
        config[f.key] = JSON.parse(String(v ?? 'null')) as JsonValue
      } catch {
        errors[f.key] = 'JSON'
      }
    } else if (f.kind === 'money' && typeof v === 'number') {
      config[f.key] = Math.round(v * 100)
    } else if (v !== undefined && v !== null) {
      config[f.key] = v as JsonValue
    }
  }
  return { config, errors }
}

/** A value the form refuses before sending, as the server would: a reason and its params. */
export interface Problem {
  reason: string
  params: Record<string, string>
}

/**
 * What the schema says of the numbers and texts in `config` before it is sent, so a typo (可预约天数
 * 0) is pointed at, never clamped and saved. The server checks the same schema; this only saves a
 * round trip and words the same reasons.
 */
export function checkConfig(fields: FieldSpec[], config: JsonObject): Record<string, Problem> {
  const out: Record<string, Problem> = {}
  for (const f of fields) {
    const v = config[f.key]
    if (f.kind === 'money') {
      if (typeof v !== 'number') continue
      const params: Record<string, string> = {}
      if (f.minimum !== undefined) params.min_yuan = String(f.minimum / 100)
      if (f.maximum !== undefined) params.max_yuan = String(f.maximum / 100)
      if ((f.minimum !== undefined && v < f.minimum) || (f.maximum !== undefined && v > f.maximum))
        out[f.key] = { reason: 'MONEY_OUT_OF_RANGE', params }
    } else if (f.kind === 'integer' || f.kind === 'number') {
      if (typeof v !== 'number' || Number.isNaN(v)) {
        if (f.required || v !== undefined) out[f.key] = { reason: 'REQUIRED', params: {} }
        continue
      }
      const params: Record<string, string> = {}
      if (f.minimum !== undefined) params.min = String(f.minimum)
      if (f.maximum !== undefined) params.max = String(f.maximum)
      if (f.minimum !== undefined && v < f.minimum) out[f.key] = { reason: 'BELOW_MINIMUM', params }
      else if (f.maximum !== undefined && v > f.maximum) out[f.key] = { reason: 'ABOVE_MAXIMUM', params }
      else if (f.kind === 'integer' && !Number.isInteger(v)) out[f.key] = { reason: 'WRONG_TYPE', params: {} }
    } else if ((f.kind === 'string' || f.kind === 'text') && typeof v === 'string') {
      if (f.maxLength !== undefined && [...v].length > f.maxLength)
        out[f.key] = { reason: 'TOO_LONG', params: { max: String(f.maxLength) } }
    }
  }
  return out
}
