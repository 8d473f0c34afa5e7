import type { SetupStep } from '@/lib/setup'
import * as api from '@/api/clients'

const steps: SetupStep[] = [
  {
    id: 'ordering.testOrder',
    module: 'ordering',
    order: 60,
    title: 'setup.testOrder',
    hint: 'setup.testOrderHint',
    path: '/ordering/board',
    async done({ tenant }) {
      return (await api.ordering().listOrders({ parent: tenant, pageSize: 1 })).orders.length > 0
    },
  },
]
export default steps
