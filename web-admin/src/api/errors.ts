// Server errors as the user sees them: field violations (google.rpc.BadRequest) next to the form
// field they name, everything else as one message.
import { Code, ConnectError } from '@connectrpc/connect'
import { BadRequestSchema, ErrorInfoSchema } from '@/gen/google/rpc/error_details_pb'

/** "product.skus[1].price_fen" and "config.hours.0.start" become "skus.1.price_fen", "hours.0.start". */
export function normaliseField(field: string, prefix = ''): string {
  let f = field.replace(/\[(\d+)\]/g, '.$1')
  if (prefix && f.startsWith(`${prefix}.`)) f = f.slice(prefix.length + 1)
  else if (prefix && f === prefix) f = ''
  return f
}

/** Field errors of a failed call, keyed by field path below `prefix`. */
export function fieldErrors(err: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {}
  if (!(err instanceof ConnectError)) return out
  for (const br of err.findDetails(BadRequestSchema)) {
    for (const v of br.fieldViolations) {
      const key = normaliseField(v.field, prefix)
      out[key] = out[key] ? `${out[key]}; ${v.description}` : v.description
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
    default:
      return undefined
  }
}

/** The server's message without connect's "[code]" prefix. */
export function rawMessage(err: unknown): string {
  if (err instanceof ConnectError) return err.rawMessage
  return err instanceof Error ? err.message : String(err)
}
