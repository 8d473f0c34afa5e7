// For page tests: a fresh store set with someone logged in, as if they had just logged in (no
// server involved). Imported by tests only.
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { useAuthStore, type RoleName } from './auth'

export function loggedIn(role: RoleName = 'admin', tenant = 'tenants/t1'): Pinia {
  const pinia = createPinia()
  setActivePinia(pinia)
  useAuthStore().session = {
    accessToken: 'a',
    refreshToken: 'r',
    expiresAt: Date.now() + 600_000,
    role,
    tenant,
    loginName: role,
    displayName: role,
    permissions: [],
  }
  return pinia
}
