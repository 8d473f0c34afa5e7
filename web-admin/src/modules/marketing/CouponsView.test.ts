// The coupons page against a fake CouponService (createRouterTransport): the list shows each
// template's offer and numbers and pages on; who may create, stop and issue sees the buttons for
// it, and no one else; a template the server refuses shows its complaints beside the form items;
// stopping sends the state alone.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import ElementPlus, { ElMessageBox } from 'element-plus'
import { clone, create } from '@bufbuild/protobuf'
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect'
import { BadRequestSchema, ErrorInfoSchema } from '@/gen/google/rpc/error_details_pb'
import {
  CouponService,
  type CreateCouponTemplateRequest,
  type UpdateCouponTemplateRequest,
} from '@/gen/minimodules/marketing/v1/marketing_service_pb'
import {
  CouponKind,
  CouponTemplateSchema,
  CouponTemplateState,
  type CouponTemplate,
} from '@/gen/minimodules/marketing/v1/coupon_pb'
import { setTransport } from '@/api/transport'
import { resetClients } from '@/api/clients'
import { i18n } from '@/locales'
import { loggedIn } from '@/stores/testing'
import { useAuthStore, type RoleName } from '@/stores/auth'
import CouponsView from './CouponsView.vue'

const TENANT = 'tenants/t1'
const tpl = (id: string, init: Partial<Omit<CouponTemplate, '$typeName' | '$unknown'>> = {}) =>
  create(CouponTemplateSchema, {
    name: `${TENANT}/couponTemplates/${id}`,
    titleZh: `券${id}`,
    kind: CouponKind.THRESHOLD,
    thresholdFen: 10000n,
    amountOffFen: 2000n,
    validDays: 7,
    totalQuantity: 100,
    perCustomerLimit: 1,
    claimable: true,
    state: CouponTemplateState.ACTIVE,
    ...init,
  })

interface Fake {
  pages: Record<string, { templates: CouponTemplate[]; next: string }>
  creates: CreateCouponTemplateRequest[]
  updates: UpdateCouponTemplateRequest[]
}

function fake(): Fake {
  return {
    pages: {
      '': {
        templates: [tpl('a', { claimedCount: 3, usedCount: 2, usedOrderTotalFen: 12345n }), tpl('b')],
        next: 'p2',
      },
      p2: { templates: [tpl('c', { kind: CouponKind.PERCENT_OFF, percentOff: 20, thresholdFen: 0n })], next: '' },
    },
    creates: [],
    updates: [],
  }
}

async function mountPage(f: Fake, role: RoleName = 'admin', permissions: string[] = []): Promise<VueWrapper> {
  setTransport(
    createRouterTransport(({ service }) => {
      service(CouponService, {
        listCouponTemplates: (req) => {
          expect(req.parent).toBe(TENANT)
          const page = f.pages[req.pageToken] ?? { templates: [], next: '' }
          return { templates: page.templates, nextPageToken: page.next }
        },
        createCouponTemplate: (req) => {
          f.creates.push(req)
          throw new ConnectError('invalid', Code.InvalidArgument, undefined, [
            { desc: ErrorInfoSchema, value: { reason: 'INVALID_ARGUMENT', domain: 'marketing.minimodules' } },
            {
              desc: BadRequestSchema,
              value: {
                fieldViolations: [
                  { field: 'template.threshold_fen', reason: 'INVALID', description: 'must be above the amount off' },
                ],
              },
            },
          ])
        },
        updateCouponTemplate: (req) => {
          f.updates.push(req)
          const before = Object.values(f.pages)
            .flatMap((p) => p.templates)
            .find((x) => x.name === req.template?.name)
          const after = clone(CouponTemplateSchema, before ?? tpl('missing'))
          after.state = req.template?.state ?? after.state
          return { template: after }
        },
      })
    }),
  )
  resetClients()
  const pinia = loggedIn(role, TENANT)
  useAuthStore().session!.permissions = permissions
  const wrapper = mount(CouponsView, {
    attachTo: document.body,
    global: { plugins: [pinia, i18n, ElementPlus], stubs: { transition: false, 'transition-group': false } },
  })
  await flushPromises()
  return wrapper
}

const rows = (w: VueWrapper) => w.findAll('[data-test="coupons-table"] .el-table__body-wrapper tbody tr')
/** The buttons of the rows (Element Plus also renders a column's slot once outside them). */
const buttons = (w: VueWrapper, test: string) => rows(w).flatMap((r) => r.findAll(`[data-test="${test}"]`))

describe('CouponsView', () => {
  beforeEach(() => {
    localStorage.clear()
    document.body.innerHTML = ''
  })

  it("lists the templates' offers and numbers, and pages on", async () => {
    const w = await mountPage(fake())
    expect(rows(w)).toHaveLength(2)
    const first = rows(w)[0]!
    expect(first.text()).toContain('券a')
    expect(first.find('[data-test="coupon-offer"]').text()).toBe('满100减20')
    expect(first.find('[data-test="coupon-claimed"]').text()).toBe('3 / 100')
    expect(first.text()).toContain('¥123.45')
    expect(first.text()).toContain('领取后 7 天内有效')
    expect(first.find('[data-test="coupon-state"]').text()).toBe('发放中')
    await w.find('[data-test="coupons-more"]').trigger('click')
    await flushPromises()
    expect(rows(w)).toHaveLength(3)
    expect(rows(w)[2]!.find('[data-test="coupon-offer"]').text()).toBe('8折')
    expect(w.find('[data-test="coupons-more"]').exists()).toBe(false)
    w.unmount()
  })

  it('shows creating, stopping and issuing only to who may', async () => {
    const admin = await mountPage(fake())
    expect(admin.find('[data-test="create-coupon"]').exists()).toBe(true)
    expect(buttons(admin, 'coupon-stop')).toHaveLength(2)
    expect(buttons(admin, 'coupon-issue')).toHaveLength(2)
    admin.unmount()

    // Staff never create or stop (the service allows admins only), and issue with the permission.
    const reader = await mountPage(fake(), 'staff', ['marketing.coupons.read', 'marketing.coupons.manage'])
    expect(reader.find('[data-test="create-coupon"]').exists()).toBe(false)
    expect(buttons(reader, 'coupon-stop')).toHaveLength(0)
    expect(buttons(reader, 'coupon-issue')).toHaveLength(0)
    expect(buttons(reader, 'coupon-usage')).toHaveLength(2)
    reader.unmount()

    const issuer = await mountPage(fake(), 'staff', ['marketing.coupons.read', 'marketing.coupons.issue'])
    expect(buttons(issuer, 'coupon-issue')).toHaveLength(2)
    issuer.unmount()
  })

  it('sends the form as a template and shows the refusal beside the threshold', async () => {
    const f = fake()
    const w = await mountPage(f)
    await w.find('[data-test="create-coupon"]').trigger('click')
    await flushPromises()
    const dialog = () => document.querySelector('[data-test="coupon-dialog"]')!
    const set = async (selector: string, value: string) => {
      const input = dialog().querySelector(`${selector} input`) as HTMLInputElement
      input.value = value
      input.dispatchEvent(new Event('input'))
      input.dispatchEvent(new Event('change'))
      await flushPromises()
    }
    const title = dialog().querySelector('input[name="coupon-title"]') as HTMLInputElement
    title.value = '满20减20'
    title.dispatchEvent(new Event('input'))
    await set('[data-test="coupon-threshold"]', '20')
    await set('[data-test="coupon-amount"]', '20')
    expect(dialog().querySelector('[data-test="coupon-preview"]')?.textContent).toContain('满20减20')
    ;(dialog().querySelector('[data-test="coupon-save"]') as HTMLButtonElement).click()
    await flushPromises()

    expect(f.creates).toHaveLength(1)
    const sent = f.creates[0]!
    expect(sent.parent).toBe(TENANT)
    expect(sent.template?.titleZh).toBe('满20减20')
    expect(sent.template?.kind).toBe(CouponKind.THRESHOLD)
    expect([sent.template?.thresholdFen, sent.template?.amountOffFen]).toEqual([2000n, 2000n])
    await vi.waitFor(() => {
      const errors = [...dialog().querySelectorAll('.el-form-item.is-error')]
      expect(errors).toHaveLength(1)
      expect(errors[0]!.querySelector('.el-form-item__error')?.textContent?.trim()).toBe(
        '使用门槛须高于减免金额，且不超过 100 万元',
      )
      expect(errors[0]!.querySelector('[data-test="coupon-threshold"]')).not.toBeNull()
    })
    w.unmount()
  })

  it('stops a template by its state alone, after asking', async () => {
    const f = fake()
    const w = await mountPage(f)
    const confirm = vi.spyOn(ElMessageBox, 'confirm').mockResolvedValue('confirm' as never)
    await rows(w)[0]!.find('[data-test="coupon-stop"]').trigger('click')
    await flushPromises()
    expect(confirm).toHaveBeenCalledOnce()
    expect(f.updates).toHaveLength(1)
    expect(f.updates[0]!.updateMask?.paths).toEqual(['state'])
    expect(f.updates[0]!.template?.name).toBe(`${TENANT}/couponTemplates/a`)
    expect(f.updates[0]!.template?.state).toBe(CouponTemplateState.STOPPED)
    expect(rows(w)[0]!.find('[data-test="coupon-state"]').text()).toBe('已停发')
    expect(rows(w)[0]!.find('[data-test="coupon-restart"]').exists()).toBe(true)
    confirm.mockRestore()
    w.unmount()
  })
})
