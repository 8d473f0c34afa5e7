import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect'
import { TenantService } from '@/gen/minimodules/tenant/v1/tenant_service_pb'
import { AuthService } from '@/gen/minimodules/identity/v1/auth_service_pb'
import { Role } from '@/gen/minimodules/common/v1/access_pb'
import { setTransport } from '@/api/transport'
import { resetClients } from '@/api/clients'
import { useAuthStore } from './auth'

const tokens = { accessToken: 'a1', refreshToken: 'r1', accessExpiresIn: 900n, refreshExpiresIn: 3600n }

describe('auth store', () => {
  beforeEach(() => {
    localStorage.clear()
    setActivePinia(createPinia())
    setTransport(
      createRouterTransport(({ service }) => {
        service(TenantService, {
          // The server's lookup: a slug or an appid names one shop.
          lookupTenant: (req) => {
            const shops: Record<string, string> = { wx0123456789abcdef: 'tenants/t1', 'salon-a': 'tenants/t2' }
            if (!shops[req.shop]) throw new ConnectError('no shop', Code.NotFound)
            return { tenant: shops[req.shop] }
          },
        })
        service(AuthService, {
          passwordLogin: (req) => ({
            tokens,
            user: {
              name: `${req.tenant}/users/u1`,
              role: Role.STAFF,
              loginName: req.loginName,
              permissions: ['catalog.products.read'],
            },
          }),
          refreshSession: (req) => ({ tokens: { ...tokens, accessToken: 'a2', refreshToken: `${req.refreshToken}+` } }),
        })
      }),
    )
    resetClients()
  })

  it('finds the shop by its slug or its mini-program appid, or takes an id as given', async () => {
    const auth = useAuthStore()
    expect(await auth.resolveTenant(' wx0123456789abcdef ')).toBe('tenants/t1')
    expect(await auth.resolveTenant('salon-a')).toBe('tenants/t2')
    const id = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'
    expect(await auth.resolveTenant(id)).toBe(`tenants/${id}`)
    expect(await auth.resolveTenant('tenants/abc')).toBe('tenants/abc')
    await expect(auth.resolveTenant('no-such-shop')).rejects.toThrow(/no shop/)
  })

  it('a staff login keeps the tenant, role and permissions, and survives a reload', async () => {
    const auth = useAuthStore()
    await auth.loginTenant('wx0123456789abcdef', 'amy', 'pw')
    expect(auth.session).toMatchObject({ role: 'staff', tenant: 'tenants/t1', permissions: ['catalog.products.read'] })
    setActivePinia(createPinia())
    expect(useAuthStore().session?.accessToken).toBe('a1')
  })

  it('staff may do only what they were granted; admins and operators everything', async () => {
    const auth = useAuthStore()
    await auth.loginTenant('wx0123456789abcdef', 'amy', 'pw')
    expect(auth.can('catalog.products.read')).toBe(true)
    expect(auth.can('catalog.products.manage')).toBe(false)
    auth.session!.role = 'admin'
    expect(auth.can('catalog.products.manage')).toBe(true)
  })

  it('renews once however many callers ask at the same time, rotating the refresh token', async () => {
    const auth = useAuthStore()
    await auth.loginTenant('wx0123456789abcdef', 'amy', 'pw')
    const results = await Promise.all([auth.refresh(), auth.refresh(), auth.refresh()])
    expect(results).toEqual([true, true, true])
    expect(auth.session).toMatchObject({ accessToken: 'a2', refreshToken: 'r1+' })
  })
})
