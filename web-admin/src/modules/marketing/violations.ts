// Marketing's field violations beside the form items they name. The server words most of a
// template's rules with the bare reason INVALID ("must be above the amount off" is for
// developers): the field says which rule it was, so the wording comes from
// `marketing.violations.<field>`; `<field>_<REASON>` words another reason (the total below what
// was handed out, an adjustment's points out of range); every other violation keeps the shared
// wording (api/errors.ts fieldMessage). A promotion's are worded from their own section
// (`marketing.promotions.violations`), the words its forms check with before sending.
import { ConnectError } from '@connectrpc/connect'
import { ElMessage } from 'element-plus'
import { BadRequestSchema, ErrorInfoSchema } from '@/gen/google/rpc/error_details_pb'
import { errorReason, fieldMessage, normaliseField, type FieldTranslator } from '@/api/errors'
import { i18n } from '@/locales'
import { messageOf, notifyError } from '@/lib/ui'

/** Reasons that say no more than "wrong": the field's own wording says which rule. */
const VAGUE = new Set(['INVALID', 'INVALID_FORMAT'])

/** Field errors of a failed template call, keyed as the form items are ("threshold_fen"). */
export function templateErrors(
  err: unknown,
  tr: FieldTranslator = i18n.global as unknown as FieldTranslator,
): Record<string, string> {
  return marketingErrors(err, 'template', tr)
}

/** Field errors of a failed marketing call, keyed below `prefix` ("template.kind" → "kind"). */
export function marketingErrors(
  err: unknown,
  prefix: string,
  tr: FieldTranslator = i18n.global as unknown as FieldTranslator,
): Record<string, string> {
  return wordedErrors(err, prefix, 'marketing.violations', (key) => key, tr)
}

/**
 * Field errors keyed below `prefix`, worded from `section`: `<wording>_<REASON>`, else for a vague
 * reason `<wording>`, else the shared wording; `wording` names a field's wording key (a list's
 * items share one: "tiers.1" → "tier").
 */
function wordedErrors(
  err: unknown,
  prefix: string,
  section: string,
  wording: (key: string) => string,
  tr: FieldTranslator,
): Record<string, string> {
  const out: Record<string, string> = {}
  if (!(err instanceof ConnectError)) return out
  const metadata = err.findDetails(ErrorInfoSchema)[0]?.metadata ?? {}
  for (const br of err.findDetails(BadRequestSchema)) {
    for (const v of br.fieldViolations) {
      const key = normaliseField(v.field, prefix)
      const params = Object.fromEntries(
        Object.entries(metadata)
          .filter(([k]) => k.startsWith(`${v.field}#`))
          .map(([k, value]) => [k.slice(v.field.length + 1), value]),
      )
      const reason = v.reason || 'INVALID'
      const specific = `${section}.${wording(key)}_${reason}`
      const general = `${section}.${wording(key)}`
      const message = tr.te(specific)
        ? tr.t(specific, params)
        : VAGUE.has(reason) && tr.te(general)
          ? tr.t(general, params)
          : fieldMessage(reason, params, tr)
      if (!out[key]) out[key] = message
      else if (!out[key].split('; ').includes(message)) out[key] += `; ${message}`
    }
  }
  return out
}

/** The validity's one form item shows what the server said about the days or the dates. */
export function validityError(errors: Record<string, string>): string | undefined {
  return errors.valid_days ?? errors.valid_until ?? errors.valid_from
}

/**
 * A failed save: its field errors to show beside their items, with one "fix the red fields"
 * toast, or, without any, the refusal's message alone.
 */
export function templateFormErrors(err: unknown): Record<string, string> {
  const fields = templateErrors(err)
  if (Object.keys(fields).length) ElMessage.error(i18n.global.t('errors.fixFields'))
  else notifyError(err)
  return fields
}

/** The adjust form's items, as the contract names their fields. */
const ADJUST_ITEMS = new Set(['delta', 'reason'])

/**
 * A refused adjustment: not enough points to take, in the shop's words, and the field violations
 * beside the amount and the reason (with one "fix the red fields" toast); anything else as a
 * toast alone.
 */
export function adjustFormErrors(err: unknown): Record<string, string> {
  if (errorReason(err) === 'POINTS_INSUFFICIENT') return { delta: messageOf(err) }
  const fields = marketingErrors(err, '')
  const keys = Object.keys(fields)
  if (keys.length && keys.every((k) => ADJUST_ITEMS.has(k))) ElMessage.error(i18n.global.t('errors.fixFields'))
  else notifyError(err)
  return fields
}

/**
 * Field errors of a failed promotion call, keyed as the forms' items are ("title_zh", "tiers.1",
 * "end_time"), worded from `marketing.promotions.violations` as the forms' own checks word them.
 */
export function promotionErrors(
  err: unknown,
  tr: FieldTranslator = i18n.global as unknown as FieldTranslator,
): Record<string, string> {
  return wordedErrors(
    err,
    'promotion',
    'marketing.promotions.violations',
    (key) => key.replace(/^tiers\.\d+$/, 'tier'),
    tr,
  )
}

/**
 * A refused promotion: the field violations beside the form's items (`items` says which it has),
 * with one "fix the red fields" toast; a violation of a field the form does not show (a stopped
 * promotion's state) or any other refusal as a toast alone.
 */
export function promotionFormErrors(err: unknown, items: (key: string) => boolean): Record<string, string> {
  const fields = promotionErrors(err)
  const keys = Object.keys(fields)
  if (keys.length && keys.every(items)) {
    ElMessage.error(i18n.global.t('errors.fixFields'))
    return fields
  }
  const elsewhere = keys.filter((k) => !items(k))
  if (elsewhere.length) ElMessage.error({ message: elsewhere.map((k) => fields[k]).join('; '), grouping: true })
  else notifyError(err)
  return Object.fromEntries(keys.filter(items).map((k) => [k, fields[k]!]))
}
