/**
 * The typed BFF client. Paths, parameters, bodies and answers are the types openapi-typescript
 * generates from the BFF's OpenAPI document (`core/api/schema.d.ts`, from `weapp/openapi.json`):
 * no DTO is copied by hand, and a renamed route or field is a type error here.
 *
 * Behaviour every call shares:
 * - `X-WeChat-Appid` on every request: the BFF resolves the tenant from it.
 * - The bearer token on every route not in `PUBLIC_PATHS`; on a 401 the session refreshes once
 *   and the call is repeated once.
 * - Retries on transport failure for reads and for writes that carry an idempotency key
 *   (`idempotencyKey`, sent as `Idempotency-Key`, the same on every attempt).
 * - Failures become `ApiError` with a zh-CN message.
 */
import type { paths } from './api/schema';
import { ApiError, fromResponse } from './errors';
import { http, type HttpMethod, type HttpResponse } from './http';

/** What wx.request can send: no PATCH (WeChat offers GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE,
 * CONNECT), so routes the mini-program needs have a POST or PUT form. */
export type Method = 'get' | 'post' | 'put' | 'delete';

/** The operation object of `method` on `path`, or never. */
export type OpOf<P extends keyof paths, M extends Method> = paths[P] extends { [K in M]: infer O }
  ? O extends undefined
    ? never
    : O
  : never;

/** Paths that have `method`. */
export type PathsFor<M extends Method> = {
  [P in keyof paths]: [OpOf<P, M>] extends [never] ? never : P;
}[keyof paths];

type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : void;

/** The JSON of the success answer (200 or 201), void for 204. */
export type ResponseOf<O> = O extends { responses: infer R }
  ? 200 extends keyof R
    ? JsonOf<R[200]>
    : 201 extends keyof R
      ? JsonOf<R[201]>
      : void
  : never;

export type BodyOf<O> = O extends { requestBody?: infer RB }
  ? [NonNullable<RB>] extends [never]
    ? never
    : NonNullable<RB> extends { content: { 'application/json': infer B } }
      ? B
      : never
  : never;

type PathParamsOf<O> = O extends { parameters: { path: infer PP } } ? PP : never;
/** True when the operation declares a required `Idempotency-Key` header (e.g. placing an order). */
type KeyRequired<O> = O extends { parameters: { header: infer H } } ? (H extends { 'Idempotency-Key': string } ? true : false) : false;
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? Q : never;

/** Arguments of one call: `path` and `body` are required exactly when the operation has them. */
export type Args<O> = ([PathParamsOf<O>] extends [never] ? { path?: undefined } : { path: PathParamsOf<O> }) &
  ([BodyOf<O>] extends [never] ? { body?: undefined } : { body: BodyOf<O> }) &
  /** Makes a write safe to retry; reuse the same key when the customer retries by hand. Required
   * where the route requires it. */
  (KeyRequired<O> extends true ? { idempotencyKey: string } : { idempotencyKey?: string }) & {
    query?: [QueryOf<O>] extends [never] ? undefined : QueryOf<O>;
    header?: Record<string, string>;
  };

type ArgsParam<O> = [PathParamsOf<O>] extends [never]
  ? [BodyOf<O>] extends [never]
    ? KeyRequired<O> extends true
      ? [args: Args<O>]
      : [args?: Args<O>]
    : [args: Args<O>]
  : [args: Args<O>];

/** Routes callable without a token. Typed against the schema, and checked against the document's
 * `security` by a unit test, so a new public route cannot be forgotten here. */
export const PUBLIC_PATHS: ReadonlySet<keyof paths> = new Set<keyof paths>([
  '/api/v1/app/config',
  '/api/v1/menu',
  '/api/v1/auth/wechat-login',
  '/api/v1/auth/dev-login',
  '/api/v1/auth/refresh',
  // Server to server (WeChat Pay's notifications, for every paying module); listed because the
  // document leaves it open.
  '/api/v1/payments/wechat/notify/{tenant}',
]);

/** How the client reaches the session; absent for the client the session itself uses. */
export interface SessionHooks {
  /** A valid access token, refreshing first when it has expired; undefined when logged out. */
  accessToken(): Promise<string | undefined>;
  /** Called after a 401: get a new token (refresh, or a silent login). True = try again. */
  recover(rejected: string): Promise<boolean>;
}

export interface ClientDeps {
  baseUrl(): string;
  appid(): string;
  session?: SessionHooks;
  /** Extra attempts for retryable calls (default 2). */
  retries?: number;
}

export interface RawResult {
  status: number;
  data: unknown;
  header: Record<string, string>;
}

/** A fresh idempotency key (UUID v4 shape). */
export function newIdempotencyKey(): string {
  const hex = '0123456789abcdef';
  let out = '';
  for (let i = 0; i < 32; i++) {
    let n = Math.floor(Math.random() * 16);
    if (i === 12) n = 4;
    if (i === 16) n = (n & 0x3) | 0x8;
    out += hex[n];
    if (i === 7 || i === 11 || i === 15 || i === 19) out += '-';
  }
  return out;
}

function fillPath(template: string, params: Record<string, unknown> | undefined): string {
  return template.replace(/\{(\w+)\}/g, (_m, k: string) => {
    const v = params?.[k];
    if (v === undefined || v === null) throw new Error(`missing path parameter ${k}`);
    return encodeURIComponent(String(v));
  });
}

function queryString(q: Record<string, unknown> | undefined): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    const values = Array.isArray(v) ? v : [v];
    for (const item of values) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(item))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

export function createClient(deps: ClientDeps) {
  const retries = deps.retries ?? 2;

  async function send(method: Method, path: keyof paths, args: Args<unknown> = {}, okStatuses: number[] = []): Promise<HttpResponse> {
    const a = args as {
      path?: Record<string, unknown>;
      query?: Record<string, unknown>;
      body?: unknown;
      idempotencyKey?: string;
      header?: Record<string, string>;
    };
    const url = deps.baseUrl() + fillPath(path, a.path) + queryString(a.query);
    const header: Record<string, string> = {
      'content-type': 'application/json',
      'X-WeChat-Appid': deps.appid(),
      ...(a.header ?? {}),
    };
    if (a.idempotencyKey) header['Idempotency-Key'] = a.idempotencyKey;
    const safe = method === 'get' || a.idempotencyKey !== undefined;
    const authed = deps.session !== undefined && !PUBLIC_PATHS.has(path);

    for (let attempt = 0; ; attempt++) {
      const token = authed ? await deps.session!.accessToken() : undefined;
      if (token) header.authorization = `Bearer ${token}`;
      else delete header.authorization;
      const res = await http({
        url,
        method: method.toUpperCase() as HttpMethod,
        header,
        data: a.body,
        retries: safe ? retries : 0,
      });
      if (res.status === 401 && authed && token && attempt === 0 && (await deps.session!.recover(token))) {
        continue;
      }
      if (res.status >= 400 && !okStatuses.includes(res.status)) throw fromResponse(res.status, res.data);
      return res;
    }
  }

  function call<M extends Method>(method: M) {
    return async <P extends PathsFor<M>>(path: P, ...rest: ArgsParam<OpOf<P, M>>): Promise<ResponseOf<OpOf<P, M>>> => {
      const res = await send(method, path, rest[0] as Args<unknown> | undefined);
      return (res.status === 204 ? undefined : res.data) as ResponseOf<OpOf<P, M>>;
    };
  }

  return {
    get: call('get'),
    post: call('post'),
    put: call('put'),
    delete: call('delete'),
    /** A GET whose status and headers the caller reads itself (the boot call's 304). */
    async getRaw<P extends PathsFor<'get'>>(path: P, args?: Args<OpOf<P, 'get'>>): Promise<RawResult> {
      return send('get', path, args as Args<unknown> | undefined, [304]);
    },
  };
}

export type Client = ReturnType<typeof createClient>;
export { ApiError };
