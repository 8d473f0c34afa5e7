// Server refusals in the user's language. Every module's error carries a machine-readable reason
// and facts (google.rpc.ErrorInfo: reason, domain "<module>.minimodules", metadata); the server's
// message is English. This is the one place a reason becomes a message: the locale key
// `reasons.<module>.<REASON>` (a module's own wording, e.g. booking's cancel window in hours),
// else `reasons.common.<REASON>`, filled from the metadata. A reason with neither keeps the
// server's message (the caller falls back), so a new server reason is never hidden.
//
// Reasons and metadata keys are the ones in crates/modules/*/src/error.rs and crates/kernel.
import { errorFacts, type ErrorFacts } from '@/api/errors'
import { yuan } from './money'

/** The slice of vue-i18n's composer this needs (so tests may pass another locale's). */
export interface Translator {
  t(key: string, params: Record<string, string>): string
  te(key: string): boolean
}

/** "no_show" and "marked a no-show" → "noShow" and "markedANoShow", as locale keys are spelt. */
export function camel(s: string): string {
  return s.replace(/[\s_-]+(\w)/g, (_m, c: string) => c.toUpperCase())
}

/** `key` translated when the locale has it, else `raw` (a value the server added later). */
function word(tr: Translator, key: string, raw: string): string {
  return tr.te(key) ? tr.t(key, {}) : raw
}

/**
 * The parameters a message may use: the metadata as sent, plus readable forms of some keys:
 * `*_fen` amounts in yuan without the suffix (`deposit_fen` → `deposit`), `status` and `action`
 * (`INVALID_TRANSITION`) and `kind` (`NOT_FOUND`) in words, comma lists with spaces.
 */
export function reasonParams(f: ErrorFacts, tr: Translator): Record<string, string> {
  const p: Record<string, string> = {}
  for (const [k, v] of Object.entries(f.metadata)) {
    p[k] = v.includes(',') ? v.split(',').join(', ') : v
    if (k.endsWith('_fen') && /^-?\d+$/.test(v)) p[k.slice(0, -4)] = yuan(Number(v))
  }
  if (f.metadata.status !== undefined)
    p.status = word(tr, `${f.module}.status.${camel(f.metadata.status)}`, f.metadata.status)
  if (f.metadata.action !== undefined)
    p.action = word(tr, `reasons.actions.${camel(f.metadata.action)}`, f.metadata.action)
  if (f.metadata.kind !== undefined) p.kind = word(tr, `reasons.kinds.${camel(f.metadata.kind)}`, f.metadata.kind)
  return p
}

/**
 * The locale key that words `f`, or undefined when none does. A refusal that names its `cause`
 * in the metadata (booking's SLOT_UNAVAILABLE) is worded by `<REASON>_<cause>` when the locale
 * has it.
 */
export function reasonKey(f: ErrorFacts, tr: Pick<Translator, 'te'>): string | undefined {
  const cause = f.metadata.cause
  const keys = [`reasons.${f.module}.${f.reason}`, `reasons.common.${f.reason}`]
  if (cause !== undefined) keys.unshift(`reasons.${f.module}.${f.reason}_${camel(cause)}`)
  return keys.find((k) => tr.te(k))
}

/** The refusal in the user's language, or undefined to show the server's own message. */
export function reasonMessage(err: unknown, tr: Translator): string | undefined {
  const f = errorFacts(err)
  if (!f) return undefined
  const key = reasonKey(f, tr)
  return key ? tr.t(key, reasonParams(f, tr)) : undefined
}
