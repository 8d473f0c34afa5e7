import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/platform/tenants',
    name: 'platform-tenants',
    component: () => import('./TenantsView.vue'),
    meta: { operatorOnly: true },
  },
]
export default routes
