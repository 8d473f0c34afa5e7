import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/identity/staff',
    component: () => import('./StaffView.vue'),
    meta: { module: 'identity', permission: 'identity.staff.manage' },
  },
  {
    path: '/identity/customers',
    component: () => import('./CustomersView.vue'),
    meta: { module: 'identity', permission: 'identity.users.read' },
  },
  {
    path: '/identity/audit',
    component: () => import('./AuditView.vue'),
    meta: { module: 'identity', permission: 'identity.audit.read' },
  },
]
export default routes
