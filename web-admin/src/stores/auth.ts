// Who is logged in: tokens, role, tenant and permissions. Kept in localStorage so a reload keeps
// the session; the refresh token rotates on every renewal (a spent one ends the session).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { Role } from '@/gen/minimodules/common/v1/access_pb'
import type { Tokens } from '@/gen/minimodules/identity/v1/identity_pb'
import * as api from '@/api/clients'

export type RoleName = 'operator' | 'admin' | 'staff'

export interface Session {
  accessToken: string
  refreshToken: string
  /** Milliseconds since the epoch. */
  expiresAt: number
  role: RoleName
  /** "tenants/{id}"; empty for operators. */
  tenant: string
  loginName: string
  displayName: string
  permissions: string[]
}

const KEY = 'mm.session'

function load(): Session | null {
  try {
    const raw = localStorage.getItem(KEY)
    return raw ? (JSON.parse(raw) as Session) : null
  } catch {
    return null
  }
}

function roleName(r: Role): RoleName {
  if (r === Role.ADMIN) return 'admin'
  if (r === Role.OPERATOR) return 'operator'
  return 'staff'
}

/** "wx" plus 16 hex characters. */
const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const useAuthStore = defineStore('auth', () => {
  const session = ref<Session | null>(load())
  const reloginOpen = ref(false)
  let reloginWaiters: { resolve: () => void; reject: (e: Error) => void }[] = []
  let refreshing: Promise<boolean> | null = null

  const loggedIn = computed(() => session.value !== null)
  const role = computed(() => session.value?.role)
  const isOperator = computed(() => session.value?.role === 'operator')

  function save(s: Session | null) {
    session.value = s
    if (s) localStorage.setItem(KEY, JSON.stringify(s))
    else localStorage.removeItem(KEY)
  }

  function withTokens(base: Omit<Session, 'accessToken' | 'refreshToken' | 'expiresAt'>, t: Tokens): Session {
    return {
      ...base,
      accessToken: t.accessToken,
      refreshToken: t.refreshToken,
      expiresAt: Date.now() + Number(t.accessExpiresIn) * 1000,
    }
  }

  async function loginOperator(loginName: string, password: string) {
    const res = await api.auth().operatorLogin({ loginName, password })
    if (!res.tokens) throw new Error('no tokens')
    save(withTokens({ role: 'operator', tenant: '', loginName, displayName: loginName, permissions: [] }, res.tokens))
    settleRelogin()
  }

  /**
   * Finds the tenant a shop field names: its slug (as the shop list shows it), its mini-program
   * appid, "tenants/{id}" or a bare id.
   */
  async function resolveTenant(shop: string): Promise<string> {
    const s = shop.trim()
    if (s.startsWith('tenants/')) return s
    if (TENANT_ID.test(s)) return `tenants/${s}`
    return (await api.tenants().lookupTenant({ shop: s })).tenant
  }

  async function loginTenant(shop: string, loginName: string, password: string) {
    const tenant = await resolveTenant(shop)
    const res = await api.auth().passwordLogin({ tenant, loginName, password })
    if (!res.tokens || !res.user) throw new Error('no tokens')
    const u = res.user
    save(
      withTokens(
        {
          role: roleName(u.role),
          tenant,
          loginName: u.loginName,
          displayName: u.displayName || u.loginName,
          permissions: [...u.permissions],
        },
        res.tokens,
      ),
    )
    localStorage.setItem('mm.lastShop', shop.trim())
    settleRelogin()
  }

  /** Renews the tokens once however many calls ask at the same time. */
  function refresh(): Promise<boolean> {
    const s = session.value
    if (!s) return Promise.resolve(false)
    refreshing ??= (async () => {
      try {
        const res = await api.auth().refreshSession({ refreshToken: s.refreshToken })
        if (!res.tokens || !session.value) return false
        save(withTokens(session.value, res.tokens))
        return true
      } catch {
        return false
      } finally {
        refreshing = null
      }
    })()
    return refreshing
  }

  /** Opens the login dialog over the current page; resolves when the user has logged in again. */
  function relogin(): Promise<void> {
    reloginOpen.value = true
    return new Promise((resolve, reject) => reloginWaiters.push({ resolve, reject }))
  }

  function settleRelogin() {
    reloginOpen.value = false
    const w = reloginWaiters
    reloginWaiters = []
    w.forEach((x) => x.resolve())
  }

  function abandonRelogin() {
    reloginOpen.value = false
    const w = reloginWaiters
    reloginWaiters = []
    w.forEach((x) => x.reject(new Error('login abandoned')))
    save(null)
  }

  async function logout() {
    try {
      if (session.value) await api.auth().logout({})
    } catch {
      // The session is forgotten here whatever the server says.
    }
    save(null)
  }

  /** Whether the user may do what `permission` names. Operators and admins may do everything. */
  function can(permission: string | undefined): boolean {
    const s = session.value
    if (!s) return false
    if (!permission || s.role !== 'staff') return true
    return s.permissions.includes(permission)
  }

  return {
    session,
    loggedIn,
    role,
    isOperator,
    reloginOpen,
    loginOperator,
    loginTenant,
    resolveTenant,
    refresh,
    relogin,
    abandonRelogin,
    logout,
    can,
  }
})
