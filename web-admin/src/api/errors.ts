// Server errors as the user sees them: field violations (google.rpc.BadRequest) next to the form
// field they name, worded here from their reason and parameters (the server's English
// description never reaches a user), everything else as one message.
import { Code, ConnectError } from '@connectrpc/connect'
import { BadRequestSchema, ErrorInfoSchema } from '@/gen/google/rpc/error_details_pb'
import { i18n } from '@/locales'

/** The slice of vue-i18n this needs. */
export interface FieldTranslator {
  t(key: string, params: Record<string, string>): string
  te(key: string): boolean
}

/**
 * A field violation in the user's language, from its reason and parameters (`TOO_LONG`,
 * `{max: "40"}` → 最多 40 个字符). A bound with both ends is worded as a range; a format names
 * which (`INVALID_FORMAT_time`); a reason this build does not know gets the generic wording.
 */
export function fieldMessage(
  reason: string,
  params: Record<string, string>,
  tr: FieldTranslator = i18n.global as unknown as FieldTranslator,
): string {
  const r = reason || 'INVALID'
  const keys = [`fields.${r}`]
  if ((r === 'BELOW_MINIMUM' || r === 'ABOVE_MAXIMUM') && params.min !== undefined && params.max !== undefined)
    keys.unshift('fields.OUT_OF_RANGE')
  if (params.format !== undefined) keys.unshift(`fields.${r}_${params.format}`)
  const key = keys.find((k) => tr.te(k)) ?? 'fields.INVALID'
  return tr.t(key, params)
}

/** A violation's parameters: the ErrorInfo metadata keys "{field}#{param}" (the server's param_key). */
function paramsOf(metadata: Record<string, string>, field: string): Record<string, string> {
  const prefix = `${field}#`
  return Object.fromEntries(
    Object.entries(metadata)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  )
}

/** "product.skus[1].price_fen" and "config.hours.0.start" become "skus.1.price_fen", "hours.0.start". */
export function normaliseField(field: string, prefix = ''): string {
  let f = field.replace(/\[(\d+)\]/g, '.$1')
  if (prefix && f.startsWith(`${prefix}.`)) f = f.slice(prefix.length + 1)
  else if (prefix && f === prefix) f = ''
  return f
}

/** Field errors of a failed call in the user's language, keyed by field path below `prefix`. */
export function fieldErrors(err: unknown, prefix = '', tr?: FieldTranslator): Record<string, string> {
  const out: Record<string, string> = {}
  if (!(err instanceof ConnectError)) return out
  const metadata = err.findDetails(ErrorInfoSchema)[0]?.metadata ?? {}
  for (const br of err.findDetails(BadRequestSchema)) {
    for (const v of br.fieldViolations) {
      const key = normaliseField(v.field, prefix)
      const message = fieldMessage(v.reason, paramsOf(metadata, v.field), tr)
      out[key] = out[key] && out[key] !== message ? `${out[key]}; ${message}` : message
    }
  }
  return out
}

/** What the server says about a refusal (ErrorInfo): reason, the module that raised it, facts. */
export interface ErrorFacts {
  /** Machine-readable, e.g. "SLOT_FULL". */
  reason: string
  /** The raising module's id: "booking" for the domain "booking.minimodules". */
  module: string
  /** Facts the message is built from, e.g. `{hours: "24"}`. */
  metadata: Record<string, string>
}

/** The ErrorInfo of a failed call, if it carries one. */
export function errorFacts(err: unknown): ErrorFacts | undefined {
  if (!(err instanceof ConnectError)) return undefined
  const info = err.findDetails(ErrorInfoSchema)[0]
  if (!info?.reason) return undefined
  return { reason: info.reason, module: info.domain.split('.')[0] ?? '', metadata: { ...info.metadata } }
}

/** The machine-readable reason (ErrorInfo.reason), e.g. "DUPLICATE_SLUG". */
export function errorReason(err: unknown): string | undefined {
  return errorFacts(err)?.reason
}

/** i18n key for the gRPC code, or undefined to show the server's own message. */
export function errorKey(err: unknown): string | undefined {
  if (!(err instanceof ConnectError)) return 'errors.network'
  switch (err.code) {
    case Code.Unauthenticated:
      return 'errors.unauthenticated'
    case Code.PermissionDenied:
      return 'errors.permissionDenied'
    case Code.Unavailable:
      return 'errors.unavailable'
    case Code.ResourceExhausted:
      return 'errors.tooMany'
    // The browser's own words for a request that never reached the server ("Failed to fetch",
    // "NetworkError when attempting to fetch resource", "Load failed"), wrapped by connect.
    case Code.Unknown:
    case Code.Internal:
      return /fetch|network|load failed/i.test(err.rawMessage) ? 'errors.network' : undefined
    default:
      return undefined
  }
}

/** The server's message without connect's "[code]" prefix. */
export function rawMessage(err: unknown): string {
  if (err instanceof ConnectError) return err.rawMessage
  return err instanceof Error ? err.message : String(err)
}
