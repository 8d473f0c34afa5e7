// The WeChat Pay page against a fake TenantService (createRouterTransport): secrets are never
// shown, only whether they are set; empty secret fields are sent empty (the server keeps the stored
// ones); the server's field violations land beside their fields.
import { beforeEach, describe, expect, it } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { clone, create } from '@bufbuild/protobuf'
import { timestampFromDate } from '@bufbuild/protobuf/wkt'
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect'
import { TenantService, type UpdatePaymentAccountRequest } from '@/gen/minimodules/tenant/v1/tenant_service_pb'
import { PaymentAccountSchema, TenantSchema, type PaymentAccount } from '@/gen/minimodules/tenant/v1/tenant_pb'
import { BadRequestSchema } from '@/gen/google/rpc/error_details_pb'
import { setTransport } from '@/api/transport'
import { resetClients } from '@/api/clients'
import { i18n } from '@/locales'
import { loggedIn } from '@/stores/testing'
import { useWorkspaceStore } from '@/stores/workspace'
import PaymentView from './PaymentView.vue'

const NAME = 'tenants/t1/paymentAccount'
const stored = create(PaymentAccountSchema, {
  name: NAME,
  appid: 'wx0123456789abcdef',
  mchid: '1900000001',
  merchantSerialNo: 'SERIAL1',
  platformKeyId: 'PUB_KEY_ID_1',
  platformPublicKeyPem: '-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----',
  secretsSet: true,
  updateTime: timestampFromDate(new Date('2026-03-01T08:30:00Z')),
})

interface Fake {
  account: PaymentAccount
  updates: UpdatePaymentAccountRequest[]
  /** Field violations the next update answers with; none: it succeeds. */
  refuse: [string, string][]
}

async function mountPage(fake: Fake): Promise<VueWrapper> {
  setTransport(
    createRouterTransport(({ service }) => {
      service(TenantService, {
        getPaymentAccount: (req) => {
          expect(req.name).toBe(NAME)
          return { paymentAccount: fake.account }
        },
        updatePaymentAccount: (req) => {
          fake.updates.push(req)
          if (fake.refuse.length)
            throw new ConnectError('invalid argument', Code.InvalidArgument, undefined, [
              {
                desc: BadRequestSchema,
                value: {
                  fieldViolations: fake.refuse.map(([field, reason]) => ({ field, reason, description: 'English' })),
                },
              },
            ])
          const saved = clone(PaymentAccountSchema, req.paymentAccount ?? stored)
          Object.assign(saved, { secretsSet: true, updateTime: stored.updateTime })
          return { paymentAccount: saved }
        },
      })
    }),
  )
  resetClients()
  const pinia = loggedIn()
  useWorkspaceStore().tenant = create(TenantSchema, { name: 'tenants/t1', wechatAppid: 'wxfedcba9876543210' })
  const wrapper = mount(PaymentView, {
    global: { plugins: [pinia, i18n, ElementPlus], stubs: { transition: false, 'transition-group': false } },
  })
  await flushPromises()
  return wrapper
}

const input = (w: VueWrapper, name: string) =>
  w.find(`[name="${name}"]`).element as HTMLInputElement | HTMLTextAreaElement

async function save(w: VueWrapper) {
  await w.find('[data-test="payment-form"]').trigger('submit')
  await flushPromises()
  // Element Plus shows a form item's error after a short debounce.
  await new Promise((r) => setTimeout(r, 250))
}

describe('PaymentView', () => {
  let fake: Fake
  beforeEach(() => {
    localStorage.clear()
    fake = { account: stored, updates: [], refuse: [] }
  })

  it('shows the stored account and that the secrets are set, never the secrets', async () => {
    const w = await mountPage(fake)
    expect(input(w, 'mchid').value).toBe('1900000001')
    expect(input(w, 'platform_public_key_pem').value).toContain('BEGIN PUBLIC KEY')
    expect(input(w, 'merchant_private_key_pem').value).toBe('')
    expect(input(w, 'apiv3_key').value).toBe('')
    expect(input(w, 'apiv3_key').placeholder).toBe('已设置，留空则保留原值')
    expect(w.find('[data-test="set-merchant_private_key_pem"]').text()).toBe('已设置')
    expect(w.find('[data-test="payment-updated"]').text()).toContain('最后更新')
    expect(w.find('[data-test="payment-not-set"]').exists()).toBe(false)
  })

  it('sends empty secrets to keep the stored ones, and clears what was typed after a save', async () => {
    const w = await mountPage(fake)
    await w.find('[name="mchid"]').setValue('1900000002')
    await save(w)
    expect(fake.updates).toHaveLength(1)
    const [req] = fake.updates
    expect(req?.merchantPrivateKeyPem).toBe('')
    expect(req?.apiv3Key).toBe('')
    expect(req?.paymentAccount?.name).toBe(NAME)
    expect(req?.paymentAccount?.mchid).toBe('1900000002')
    expect(req?.paymentAccount?.appid).toBe('wx0123456789abcdef')

    await w.find('[name="apiv3_key"]').setValue('k'.repeat(32))
    await save(w)
    expect(fake.updates[1]?.apiv3Key).toBe('k'.repeat(32))
    expect(input(w, 'apiv3_key').value).toBe('')
  })

  it("puts the server's field errors beside their fields", async () => {
    fake.refuse = [
      ['payment_account.mchid', 'INVALID_FORMAT'],
      ['merchant_private_key_pem', 'REQUIRED'],
    ]
    const w = await mountPage(fake)
    await w.find('[name="mchid"]').setValue('abc')
    await save(w)
    expect(w.find('[data-test="field-mchid"] .el-form-item__error').text()).toBe('格式不正确')
    expect(w.find('[data-test="field-merchant_private_key_pem"] .el-form-item__error').text()).toBe('必填')
    expect(w.findAll('.el-form-item.is-error')).toHaveLength(2)
    expect(input(w, 'mchid').value).toBe('abc')
  })

  it("starts an unset account from the shop's own mini-program, saying it is not set", async () => {
    fake.account = create(PaymentAccountSchema, { name: NAME })
    const w = await mountPage(fake)
    expect(input(w, 'appid').value).toBe('wxfedcba9876543210')
    expect(w.find('[data-test="payment-not-set"]').exists()).toBe(true)
    expect(w.find('[data-test="set-merchant_private_key_pem"]').exists()).toBe(false)
    expect(input(w, 'merchant_private_key_pem').placeholder).toBe('粘贴 apiclient_key.pem 的全部内容')
  })
})
