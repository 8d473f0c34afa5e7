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
    // WeChat Pay's merchant account: GetPaymentAccount and UpdatePaymentAccount admit admins and
    // operators only, whatever a staff member's permissions.
    path: '/tenant/payment',
    component: () => import('./PaymentView.vue'),
    meta: {
      module: 'tenant',
      roles: ['admin', 'operator'],
      menu: { title: 'payment.title', after: '/tenant/branding' },
    },
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
