import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/ordering/board',
    component: () => import('./BoardView.vue'),
    meta: { module: 'ordering', permission: 'ordering.orders.read' },
  },
]
export default routes
