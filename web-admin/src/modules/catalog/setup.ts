import type { SetupStep } from '@/lib/setup'
import * as api from '@/api/clients'

const steps: SetupStep[] = [
  {
    id: 'catalog.products',
    module: 'catalog',
    order: 40,
    title: 'setup.products',
    hint: 'setup.productsHint',
    path: '/catalog/products',
    async done({ tenant }) {
      return (await api.catalog().listProducts({ parent: tenant, pageSize: 1 })).products.length > 0
    },
  },
]
export default steps
