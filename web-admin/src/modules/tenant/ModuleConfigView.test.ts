// The config page against a fake TenantService (createRouterTransport): the form comes from the
// module's schema, and a field violation from the server lands beside its field.
import { describe, expect, it, beforeEach, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import ElementPlus from 'element-plus'
import { create } from '@bufbuild/protobuf'
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect'
import { TenantService } from '@/gen/minimodules/tenant/v1/tenant_service_pb'
import { ModuleSchema } from '@/gen/minimodules/tenant/v1/module_pb'
import { BadRequestSchema, ErrorInfoSchema } from '@/gen/google/rpc/error_details_pb'
import { setTransport } from '@/api/transport'
import { resetClients } from '@/api/clients'
import { i18n } from '@/locales'
import { loggedIn } from '@/stores/testing'
import { useWorkspaceStore } from '@/stores/workspace'
import ModuleConfigView from './ModuleConfigView.vue'

const schema = {
  type: 'object',
  properties: {
    contact_phone: { type: 'string', maxLength: 32, title: '联系电话', default: '' },
    auto_accept: { type: 'boolean', title: '自动接单', default: false },
    horizon_days: { type: 'integer', minimum: 1, maximum: 180, title: '可预约天数', default: 14 },
  },
}

async function mountPage(updates: unknown[]) {
  setTransport(
    createRouterTransport(({ service }) => {
      service(TenantService, {
        getModuleConfig: (req) => ({
          config: { name: req.name, config: { contact_phone: '123', auto_accept: true }, version: 3n, etag: 'e1' },
        }),
        updateModuleConfig: (req) => {
          updates.push(req.config?.config)
          throw new ConnectError('invalid', Code.InvalidArgument, undefined, [
            {
              desc: ErrorInfoSchema,
              value: {
                reason: 'INVALID_CONFIG',
                domain: 'tenant.minimodules',
                metadata: { 'config.contact_phone#format': 'phone' },
              },
            },
            {
              desc: BadRequestSchema,
              value: {
                fieldViolations: [
                  {
                    field: 'config.contact_phone',
                    reason: 'INVALID_FORMAT',
                    description: 'does not match "^[0-9+]+$"',
                  },
                ],
              },
            },
          ])
        },
      })
    }),
  )
  resetClients()
  const pinia = loggedIn()
  const ws = useWorkspaceStore()
  ws.specs = [create(ModuleSchema, { id: 'tenant', core: true, displayNameZh: '店铺', configSchema: schema })]
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/tenant/modules/:id/config', component: ModuleConfigView }],
  })
  await router.push('/tenant/modules/tenant/config')
  const wrapper = mount(ModuleConfigView, {
    global: { plugins: [pinia, router, i18n, ElementPlus], stubs: { transition: false, 'transition-group': false } },
  })
  await flushPromises()
  return wrapper
}

describe('ModuleConfigView', () => {
  beforeEach(() => localStorage.clear())

  it('renders the schema as fields filled with the stored config', async () => {
    const w = await mountPage([])
    expect(w.find('[data-test="field-contact_phone"]').text()).toContain('联系电话')
    expect((w.find('[data-test="field-contact_phone"] input').element as HTMLInputElement).value).toBe('123')
    expect(w.find('[data-test="field-auto_accept"] .el-switch').classes()).toContain('is-checked')
    // One widget per field: no stray JSON box beside a switch or a number.
    for (const key of ['contact_phone', 'auto_accept', 'horizon_days'])
      expect(w.findAll(`[data-test="field-${key}"] textarea`), key).toHaveLength(0)
  })

  it('shows the server field error next to the field', async () => {
    const updates: unknown[] = []
    const w = await mountPage(updates)
    await w.find('[data-test="field-contact_phone"] input').setValue('not a phone')
    await w.find('[data-test="config-save"]').trigger('click')
    await flushPromises()
    expect(updates).toEqual([{ contact_phone: 'not a phone', auto_accept: true, horizon_days: 14 }])
    // Element Plus shows a form item's error after a short debounce: waited for, not slept on.
    await vi.waitFor(() =>
      expect(w.find('[data-test="field-contact_phone"] .el-form-item__error').text()).toBe('只能填数字，可以 + 开头'),
    )
    expect(w.find('[data-test="field-contact_phone"]').classes()).toContain('is-error')
    expect(w.find('[data-test="field-auto_accept"]').classes()).not.toContain('is-error')
  })

  it('points at a number out of range instead of clamping it, sends nothing, and clears the error on edit', async () => {
    const updates: unknown[] = []
    const w = await mountPage(updates)
    const box = () => w.find('[data-test="field-horizon_days"] input')
    await box().setValue('0')
    await box().trigger('blur')
    await w.find('[data-test="config-save"]').trigger('click')
    await flushPromises()
    await vi.waitFor(() =>
      expect(w.find('[data-test="field-horizon_days"] .el-form-item__error').text()).toBe('须在 1 到 180 之间'),
    )
    expect(updates).toEqual([])
    expect((box().element as HTMLInputElement).value).toBe('0')

    await box().setValue('7')
    await box().trigger('blur')
    await flushPromises()
    await vi.waitFor(() => expect(w.find('[data-test="field-horizon_days"] .el-form-item__error').exists()).toBe(false))
  })
})
