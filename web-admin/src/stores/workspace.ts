// The tenant being administered and what it has switched on: the module specs of the platform,
// the tenant's module states, and its profile. Menus and route guards read from here.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { Module, TenantModule } from '@/gen/minimodules/tenant/v1/module_pb'
import type { Tenant } from '@/gen/minimodules/tenant/v1/tenant_pb'
import * as api from '@/api/clients'
import { useAuthStore } from './auth'

const KEY = 'mm.operatorTenant'

export const useWorkspaceStore = defineStore('workspace', () => {
  const auth = useAuthStore()
  /** For operators: the tenant they chose to administer. */
  const chosen = ref<string>(localStorage.getItem(KEY) ?? '')
  const tenant = ref<Tenant | null>(null)
  const specs = ref<Module[]>([])
  const states = ref<TenantModule[]>([])
  const loading = ref(false)
  /** The first load has finished (successfully or not). */
  const loaded = ref(false)

  const tenantName = computed(() => (auth.isOperator ? chosen.value : (auth.session?.tenant ?? '')))

  const enabled = computed(() => {
    const on = new Set(states.value.filter((m) => m.enabled).map((m) => m.moduleId))
    for (const m of specs.value) if (m.core) on.add(m.id)
    return on
  })

  function choose(name: string) {
    loaded.value = false
    chosen.value = name
    if (name) localStorage.setItem(KEY, name)
    else localStorage.removeItem(KEY)
    tenant.value = null
    states.value = []
  }

  async function load() {
    if (!tenantName.value) {
      loaded.value = false
      tenant.value = null
      states.value = []
      return
    }
    loading.value = true
    try {
      // Settled one by one: a staff member may lack the permission for one of them (the tenant
      // profile) and still needs the others for the menu.
      const [t, s, m] = await Promise.allSettled([
        api.tenants().getTenant({ name: tenantName.value }),
        api.tenants().listTenantModules({ parent: tenantName.value }),
        specs.value.length ? Promise.resolve(null) : api.modules().listModules({}),
      ])
      tenant.value = t.status === 'fulfilled' ? (t.value.tenant ?? null) : null
      if (s.status === 'fulfilled') states.value = s.value.modules
      if (m.status === 'fulfilled' && m.value) specs.value = m.value.modules
      loaded.value = true
      const failed = [s, m].find((r) => r.status === 'rejected')
      if (failed?.status === 'rejected') throw failed.reason
    } finally {
      loading.value = false
    }
  }

  /** Replaces one module's state after an enable or disable. */
  function setState(m: TenantModule) {
    const i = states.value.findIndex((x) => x.moduleId === m.moduleId)
    if (i >= 0) states.value.splice(i, 1, m)
    else states.value.push(m)
  }

  function reset() {
    loaded.value = false
    tenant.value = null
    states.value = []
    specs.value = []
  }

  return { chosen, tenant, specs, states, loading, loaded, tenantName, enabled, choose, load, setState, reset }
})
