// Customers as the issue dialog names them: identity's users (its contract, not a copy here),
// read by whoever may list members; a user who may not types the customer's id instead.
import type { User } from '@/gen/minimodules/identity/v1/identity_pb'

/** How a customer is called: their WeChat nickname, else their name, else their phone, else their id. */
export function customerLabel(u: Pick<User, 'name' | 'nickname' | 'displayName' | 'phone'>): string {
  const label = u.nickname || u.displayName
  if (label && u.phone) return `${label} · ${u.phone}`
  return label || u.phone || u.name.slice(u.name.lastIndexOf('/') + 1)
}

/**
 * A customer typed by hand as the user name the contract takes: "tenants/{t}/users/{id}" as it
 * is, a bare id under the current tenant; empty for nothing typed.
 */
export function customerName(typed: string, tenant: string): string {
  const s = typed.trim()
  if (!s) return ''
  if (s.startsWith('tenants/')) return s
  return `${tenant}/users/${s.replace(/^users\//, '')}`
}
