import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: '/catalog/products',
    component: () => import('./ProductsView.vue'),
    meta: { module: 'catalog', permission: 'catalog.products.read' },
  },
  {
    path: '/catalog/categories',
    component: () => import('./CategoriesView.vue'),
    meta: { module: 'catalog', permission: 'catalog.products.manage' },
  },
]
export default routes
