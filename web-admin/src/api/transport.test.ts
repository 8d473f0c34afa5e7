import { describe, expect, it } from 'vitest'
import { Code, ConnectError, createClient, createRouterTransport } from '@connectrpc/connect'
import { TenantService } from '@/gen/minimodules/tenant/v1/tenant_service_pb'
import { authInterceptor, type SessionHooks } from './transport'

/** A fake server that accepts only `valid` as the bearer token. */
function server(valid: () => string, seen: string[]) {
  return (hooks: SessionHooks) =>
    createRouterTransport(
      ({ service }) => {
        service(TenantService, {
          getTenant(req, ctx) {
            const auth = ctx.requestHeader.get('authorization') ?? ''
            seen.push(auth)
            if (auth !== `Bearer ${valid()}`) throw new ConnectError('expired', Code.Unauthenticated)
            return { tenant: { name: req.name } }
          },
          getAppConfig() {
            seen.push('anonymous')
            return {}
          },
        })
      },
      { transport: { interceptors: [authInterceptor(hooks)] } },
    )
}

function session(token: string, refreshTo: string | null) {
  const s = { token, refreshes: 0, relogins: 0 }
  const hooks: SessionHooks = {
    accessToken: () => s.token,
    expiresAt: () => Date.now() + 600_000,
    refresh: async () => {
      s.refreshes++
      if (refreshTo === null) return false
      s.token = refreshTo
      return true
    },
    relogin: async () => {
      s.relogins++
      s.token = 'after-login'
    },
  }
  return { s, hooks }
}

describe('authInterceptor', () => {
  it('sends the bearer token', async () => {
    const seen: string[] = []
    const { hooks } = session('good', null)
    const c = createClient(TenantService, server(() => 'good', seen)(hooks))
    const res = await c.getTenant({ name: 'tenants/a' })
    expect(res.tenant?.name).toBe('tenants/a')
    expect(seen).toEqual(['Bearer good'])
  })

  it('renews an expired token and replays the call once', async () => {
    const seen: string[] = []
    const { s, hooks } = session('old', 'new')
    const c = createClient(TenantService, server(() => 'new', seen)(hooks))
    await c.getTenant({ name: 'tenants/a' })
    expect(s.refreshes).toBe(1)
    expect(seen).toEqual(['Bearer old', 'Bearer new'])
  })

  it('asks the user to log in again when the session cannot be renewed, keeping the call', async () => {
    const seen: string[] = []
    const { s, hooks } = session('old', null)
    const c = createClient(TenantService, server(() => 'after-login', seen)(hooks))
    await c.getTenant({ name: 'tenants/a' })
    expect(s.relogins).toBe(1)
    expect(seen).toEqual(['Bearer old', 'Bearer after-login'])
  })

  it('renews ahead of expiry', async () => {
    const seen: string[] = []
    const { s, hooks } = session('old', 'new')
    hooks.expiresAt = () => Date.now() + 1000
    const c = createClient(TenantService, server(() => 'new', seen)(hooks))
    await c.getTenant({ name: 'tenants/a' })
    expect(s.refreshes).toBe(1)
    expect(seen).toEqual(['Bearer new'])
  })

  it('never sends a token on the anonymous boot call', async () => {
    const seen: string[] = []
    const { hooks } = session('good', null)
    const c = createClient(TenantService, server(() => 'good', seen)(hooks))
    await c.getAppConfig({ wechatAppid: 'wx0123456789abcdef' })
    expect(seen).toEqual(['anonymous'])
  })
})
