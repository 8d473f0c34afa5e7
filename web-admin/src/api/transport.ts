// The one grpc-web transport every generated client uses. Its interceptor adds the bearer token,
// renews it shortly before it expires, and when a call is refused as unauthenticated renews it (or,
// when the session has ended, asks the user to log in again in a dialog over the current page) and
// replays the call once, so nothing typed into a form is lost.
import { Code, ConnectError, type Interceptor, type Transport } from '@connectrpc/connect'
import { createGrpcWebTransport } from '@connectrpc/connect-web'

export interface SessionHooks {
  /** The current access token, if logged in. */
  accessToken(): string | undefined
  /** Milliseconds since the epoch when the access token expires. */
  expiresAt(): number | undefined
  /** Renews the tokens; false when the session can no longer be renewed. */
  refresh(): Promise<boolean>
  /** Asks the user to log in again; resolves once they have, rejects when they give up. */
  relogin(): Promise<void>
}

/** Calls that must never carry a token or be retried: they are how tokens are made. */
const ANONYMOUS = new Set(['PasswordLogin', 'OperatorLogin', 'RefreshSession', 'GetAppConfig'])

export function authInterceptor(hooks: SessionHooks, skewMs = 30_000): Interceptor {
  return (next) => async (req) => {
    if (ANONYMOUS.has(req.method.name)) return next(req)
    const exp = hooks.expiresAt()
    if (hooks.accessToken() && exp !== undefined && exp - Date.now() < skewMs) {
      await hooks.refresh()
    }
    const send = () => {
      const token = hooks.accessToken()
      if (token) req.header.set('authorization', `Bearer ${token}`)
      return next(req)
    }
    try {
      return await send()
    } catch (e) {
      // A stream's request may not be replayable; only unary calls are retried.
      if (!(e instanceof ConnectError) || e.code !== Code.Unauthenticated || req.stream) throw e
      if (!(await hooks.refresh())) await hooks.relogin()
      return await send()
    }
  }
}

let transport: Transport | undefined

export function setTransport(t: Transport): void {
  transport = t
}

export function getTransport(): Transport {
  if (!transport) throw new Error('transport used before the app configured it')
  return transport
}

export function createTransport(baseUrl: string, hooks: SessionHooks): Transport {
  return createGrpcWebTransport({ baseUrl, interceptors: [authInterceptor(hooks)] })
}
