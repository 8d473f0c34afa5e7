/**
 * One error type for every failed BFF call, with a message a customer can read (zh-CN) and the
 * machine-readable `code` the BFF sends (its ErrorInfo reason, e.g. "OUT_OF_STOCK") to branch on.
 */
import { format, strings } from './locale/index';

const E = strings.errors;

export interface FieldError {
  field: string;
  /** English, for logs: never shown. */
  description: string;
  /** REQUIRED, TOO_LONG, INVALID_FORMAT...: what the customer is told. */
  reason?: string;
  params?: Record<string, string>;
}

/** A refused field in the customer's words, from its reason and params; undefined when unknown. */
export function fieldMessage(f: FieldError): string | undefined {
  const params = f.params ?? {};
  const reason = f.reason ?? '';
  const keys = [reason];
  if ((reason === 'BELOW_MINIMUM' || reason === 'ABOVE_MAXIMUM') && params.min && params.max) keys.unshift('OUT_OF_RANGE');
  if (params.format) keys.unshift(`${reason}_${params.format}`);
  const key = keys.find((k) => E.fields[k]);
  return key ? format(E.fields[key] ?? '', params) : undefined;
}

export class ApiError extends Error {
  /** HTTP status; 0 when the request never got an answer. */
  readonly status: number;
  /** The BFF's reason code, or NETWORK / TIMEOUT for transport failures. */
  readonly code: string;
  /** The BFF's English explanation, for logs. */
  readonly detail: string;
  readonly fields: FieldError[];
  readonly metadata: Record<string, string>;

  constructor(init: { status: number; code: string; detail?: string; fields?: FieldError[]; metadata?: Record<string, string> }) {
    const field = init.fields?.map(fieldMessage).find((m) => m !== undefined);
    super(init.status === 400 && field ? field : messageFor(init.status, init.code));
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail ?? '';
    this.fields = init.fields ?? [];
    this.metadata = init.metadata ?? {};
  }

  /** True when retrying the same request later may work. */
  get transient(): boolean {
    return this.status === 0 || this.status === 503 || this.status === 504;
  }
}

/** The customer-facing text for a status and reason code. */
export function messageFor(status: number, code: string): string {
  const byCode = E.byCode[code];
  if (byCode) return byCode;
  if (code === 'TIMEOUT') return E.timeout;
  if (status === 0) return E.network;
  if (status === 400) return E.badRequest;
  if (status === 401) return E.unauthenticated;
  if (status === 403) return E.forbidden;
  if (status === 404) return E.notFound;
  if (status === 409) return E.conflict;
  if (status === 429) return E.tooMany;
  if (status === 503) return E.unavailable;
  if (status >= 500) return E.server;
  return E.unknown;
}

/** Parses the BFF's `{code, message, details}` body; anything else becomes a generic error. */
export function fromResponse(status: number, body: unknown): ApiError {
  if (body && typeof body === 'object' && 'code' in body) {
    const b = body as {
      code?: unknown;
      message?: unknown;
      details?: { fields?: FieldError[]; metadata?: Record<string, string> };
    };
    return new ApiError({
      status,
      code: typeof b.code === 'string' ? b.code : `HTTP_${status}`,
      detail: typeof b.message === 'string' ? b.message : '',
      fields: Array.isArray(b.details?.fields) ? b.details.fields : [],
      metadata: b.details?.metadata ?? {},
    });
  }
  return new ApiError({ status, code: `HTTP_${status}` });
}

/** The text to show for any thrown value. */
export function describe(e: unknown): string {
  return e instanceof ApiError ? e.message : E.unknown;
}
