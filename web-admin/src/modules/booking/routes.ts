import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/booking/calendar',
    component: () => import('./CalendarView.vue'),
    meta: { module: 'booking', permission: 'booking.reservations.read' },
  },
  {
    path: '/booking/services',
    component: () => import('./ServicesView.vue'),
    meta: { module: 'booking', permission: 'booking.reservations.manage' },
  },
]
export default routes
