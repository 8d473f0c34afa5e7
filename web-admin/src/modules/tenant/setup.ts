import type { SetupStep } from '@/lib/setup'
import * as api from '@/api/clients'

const steps: SetupStep[] = [
  {
    id: 'tenant.payment',
    module: 'tenant',
    order: 20,
    title: 'setup.payment',
    hint: 'setup.paymentHint',
    path: '/tenant/payment',
    // WeChat Pay set up, or orders may be paid at the counter.
    async done({ tenant, enabled }) {
      const account = await api.tenants().getPaymentAccount({ name: `${tenant}/paymentAccount` })
      if (account.paymentAccount?.secretsSet) return true
      if (!enabled.has('ordering')) return false
      const res = await api.tenants().getModuleConfig({ name: `${tenant}/modules/ordering/config` })
      // Stored with the schema's defaults applied.
      const config = (res.config?.config ?? {}) as { payment_methods?: string[] }
      return config.payment_methods?.includes('counter') ?? false
    },
  },
  {
    id: 'tenant.branding',
    module: 'tenant',
    order: 50,
    title: 'setup.branding',
    hint: 'setup.brandingHint',
    path: '/tenant/branding',
    async done({ tenant }) {
      const res = await api.tenants().getBranding({ name: `${tenant}/branding` })
      return !!res.branding?.logoUrl
    },
  },
]
export default steps
