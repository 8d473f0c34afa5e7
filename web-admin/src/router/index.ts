// Routes: the login page, and inside the layout the platform pages and every module's pages,
// collected from src/modules/*/routes.ts (a new module adds its folder, no line here). Whether a
// module page may show (module enabled, permission held) is decided by ModuleGate from the live
// workspace state, so menus and pages follow an enable/disable at once.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useAuthStore, type RoleName } from '@/stores/auth'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without logging in. */
    public?: boolean
    /** Platform operators only. */
    operatorOnly?: boolean
    /** The module whose page this is; it must be enabled for the tenant. */
    module?: string
    /** Permission a staff member needs. */
    permission?: string
    /** Roles that may open the page, for RPCs the services allow by role rather than permission. */
    roles?: RoleName[]
    /** A menu entry in the module's group (locale key of its title; the spec's entry it follows),
     * for pages the module spec's menu cannot declare (it gates by permission only). */
    menu?: { title: string; after?: string }
  }
}

const found = import.meta.glob<{ default: RouteRecordRaw[] }>('../modules/*/routes.ts', { eager: true })
export const moduleRoutes: RouteRecordRaw[] = Object.values(found).flatMap((m) => m.default)

export const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { public: true } },
  {
    path: '/',
    component: () => import('@/layouts/AdminLayout.vue'),
    children: [
      { path: '', name: 'home', component: () => import('@/views/HomeView.vue') },
      ...moduleRoutes,
      { path: ':pathMatch(.*)*', name: 'fallback', component: () => import('@/views/FallbackView.vue') },
    ],
  },
]

export function makeRouter() {
  const router = createRouter({ history: createWebHistory(import.meta.env.BASE_URL), routes })
  router.beforeEach((to) => {
    const auth = useAuthStore()
    if (to.meta.public) return to.name === 'login' && auth.loggedIn ? { name: 'home' } : true
    if (!auth.loggedIn) return { name: 'login', query: { redirect: to.fullPath } }
    if (to.meta.operatorOnly && !auth.isOperator) return { name: 'home' }
    return true
  })
  return router
}
