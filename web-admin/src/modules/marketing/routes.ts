import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/marketing/coupons',
    component: () => import('./CouponsView.vue'),
    meta: { module: 'marketing', permission: 'marketing.coupons.read' },
  },
]
export default routes
