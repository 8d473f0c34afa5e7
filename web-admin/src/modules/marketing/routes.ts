import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/marketing/coupons',
    component: () => import('./CouponsView.vue'),
    meta: { module: 'marketing', permission: 'marketing.coupons.read' },
  },
  {
    path: '/marketing/members',
    component: () => import('./MembersView.vue'),
    meta: { module: 'marketing', permission: 'marketing.members.read' },
  },
  {
    path: '/marketing/promotions',
    component: () => import('./PromotionsView.vue'),
    meta: { module: 'marketing', permission: 'marketing.promotions.read' },
  },
]
export default routes
