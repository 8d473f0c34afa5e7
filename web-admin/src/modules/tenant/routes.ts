import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/tenant/profile',
    component: () => import('./ProfileView.vue'),
    meta: { module: 'tenant', permission: 'tenant.tenants.read' },
  },
  {
    path: '/tenant/branding',
    component: () => import('./BrandingView.vue'),
    meta: { module: 'tenant', permission: 'tenant.branding.read' },
  },
  {
    path: '/tenant/modules',
    component: () => import('./ModulesView.vue'),
    meta: { module: 'tenant', permission: 'tenant.modules.read' },
  },
  {
    path: '/tenant/modules/:id/config',
    name: 'module-config',
    component: () => import('./ModuleConfigView.vue'),
    meta: { module: 'tenant', permission: 'tenant.config.read' },
  },
]
export default routes
