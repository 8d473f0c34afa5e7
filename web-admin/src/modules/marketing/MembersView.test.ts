// The members page against fake MemberService, CouponService, UserService, TenantService,
// OrderService and BookingService (createRouterTransport): a customer found by nickname shows
// their points, level and the way to the next level, and their history pages on; their coupons
// say what each went to, an order by its number or a booking's deposit by when it is; an adjustment is sent once per opened dialog
// however often it is clicked, and a refusal reads in Chinese beside the amount; staff without
// the customer list type an id, never see the adjust button, and without the settings see the
// next level without the way there.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { create, type JsonObject } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect'
import { ErrorInfoSchema } from '@/gen/google/rpc/error_details_pb'
import {
  CouponService,
  MemberService,
  type AdjustPointsRequest,
  type GetMemberRequest,
  type ListCouponsRequest,
} from '@/gen/minimodules/marketing/v1/marketing_service_pb'
import {
  CouponKind,
  CouponSchema,
  CouponState,
  CouponTemplateSchema,
  MemberLevelSchema,
  MemberSchema,
  PointsEntrySchema,
  type Coupon,
  type Member,
  type PointsEntry,
} from '@/gen/minimodules/marketing/v1/coupon_pb'
import { UserService } from '@/gen/minimodules/identity/v1/user_service_pb'
import { UserSchema } from '@/gen/minimodules/identity/v1/identity_pb'
import { TenantService } from '@/gen/minimodules/tenant/v1/tenant_service_pb'
import { TenantModuleSchema } from '@/gen/minimodules/tenant/v1/module_pb'
import { OrderService } from '@/gen/minimodules/ordering/v1/order_service_pb'
import { OrderSchema } from '@/gen/minimodules/ordering/v1/order_pb'
import { BookingService } from '@/gen/minimodules/booking/v1/booking_service_pb'
import { ReservationSchema } from '@/gen/minimodules/booking/v1/booking_pb'
import { setTransport } from '@/api/transport'
import { resetClients } from '@/api/clients'
import { i18n } from '@/locales'
import { loggedIn } from '@/stores/testing'
import { useAuthStore, type RoleName } from '@/stores/auth'
import { useWorkspaceStore } from '@/stores/workspace'
import MembersView from './MembersView.vue'

const TENANT = 'tenants/t1'
const MEMBER = `${TENANT}/members/u1`

const entry = (id: string, init: Partial<Omit<PointsEntry, '$typeName' | '$unknown'>>) =>
  create(PointsEntrySchema, {
    name: `${MEMBER}/pointsEntries/${id}`,
    createTime: timestampFromMs(Date.UTC(2026, 0, 10, 12)),
    ...init,
  })

const coupon = (id: string, state: CouponState, order: string, titleZh: string, amountOffFen: bigint) =>
  create(CouponSchema, {
    name: `${TENANT}/coupons/${id}`,
    template: `${TENANT}/couponTemplates/tp-${id}`,
    customer: `${TENANT}/users/u1`,
    state,
    order,
    terms: create(CouponTemplateSchema, { titleZh, kind: CouponKind.AMOUNT_OFF, amountOffFen }),
    validUntil: timestampFromMs(new Date(2026, 11, 31, 12).getTime()),
  })

interface Fake {
  member: Member
  pages: Record<string, { entries: PointsEntry[]; next: string }>
  /** The customer's coupons by page token. */
  coupons: Record<string, { coupons: Coupon[]; next: string }>
  couponAsks: ListCouponsRequest[]
  /** marketing's stored config; undefined refuses the read (no permission). */
  config: JsonObject | undefined
  gets: GetMemberRequest[]
  adjusts: AdjustPointsRequest[]
  /** The first adjustment is made but its answer lost on the way (the user clicks again). */
  loseFirstAnswer: boolean
}

function fake(): Fake {
  return {
    // 银卡 from ¥100 (5% off), 金卡 from ¥500; ¥300 spent.
    member: create(MemberSchema, {
      name: MEMBER,
      customer: `${TENANT}/users/u1`,
      points: 120n,
      lifetimePoints: 300n,
      lifetimeSpendFen: 30_000n,
      level: create(MemberLevelSchema, {
        nameZh: '银卡',
        threshold: 10_000n,
        discountPercent: 5,
        perks: '生日双倍积分',
      }),
      nextLevel: create(MemberLevelSchema, { nameZh: '金卡', threshold: 50_000n, discountPercent: 10 }),
    }),
    pages: {
      '': {
        entries: [
          entry('e3', { delta: -30n, balanceAfter: 120n, kind: 'ADJUSTED', reason: '兑换礼品' }),
          entry('e2', { delta: 100n, balanceAfter: 150n, kind: 'ORDER_PAID', order: `${TENANT}/orders/o1` }),
        ],
        next: 'p2',
      },
      p2: { entries: [entry('e1', { delta: 50n, balanceAfter: 50n, kind: 'ORDER_PAID', order: '' })], next: '' },
    },
    coupons: {
      '': {
        coupons: [
          // Taken off a booking's deposit, then used when it was paid.
          coupon('c3', CouponState.USED, `${TENANT}/reservations/r1`, '定金立减券', 1_000n),
          // Held by an order not paid yet.
          coupon('c2', CouponState.LOCKED, `${TENANT}/orders/o1`, '立减5元', 500n),
        ],
        next: 'c-p2',
      },
      'c-p2': { coupons: [coupon('c1', CouponState.AVAILABLE, '', '新人券', 300n)], next: '' },
    },
    couponAsks: [],
    config: { levels_by: 'spend', points_per_yuan: 1, levels: [] },
    gets: [],
    adjusts: [],
    loseFirstAnswer: false,
  }
}

async function mountPage(
  f: Fake,
  role: RoleName = 'admin',
  permissions: string[] = [],
  router = { push: vi.fn() },
): Promise<VueWrapper> {
  setTransport(
    createRouterTransport(({ service }) => {
      service(MemberService, {
        getMember: (req) => {
          f.gets.push(req)
          return { member: { ...f.member, name: req.name } }
        },
        listPointsEntries: (req) => {
          expect(req.parent).toBe(MEMBER)
          const page = f.pages[req.pageToken] ?? { entries: [], next: '' }
          return { entries: page.entries, nextPageToken: page.next }
        },
        adjustPoints: (req) => {
          f.adjusts.push(req)
          const first = f.adjusts.find((a) => a.requestId === req.requestId)!
          if (f.member.points + first.delta < 0n)
            throw new ConnectError('the member does not have that many points', Code.FailedPrecondition, undefined, [
              { desc: ErrorInfoSchema, value: { reason: 'POINTS_INSUFFICIENT', domain: 'marketing.minimodules' } },
            ])
          // Idempotent per request id, as the server: a repeat answers with the first entry.
          if (first === req) f.member = { ...f.member, points: f.member.points + req.delta }
          if (f.loseFirstAnswer && f.adjusts.length === 1) throw new ConnectError('lost', Code.Unavailable)
          const written = entry(`adj-${req.requestId}`, {
            delta: first.delta,
            balanceAfter: f.member.points,
            kind: 'ADJUSTED',
            reason: first.reason,
          })
          return { member: f.member, entry: written }
        },
      })
      service(CouponService, {
        listCoupons: (req) => {
          f.couponAsks.push(req)
          const page = f.coupons[req.pageToken] ?? { coupons: [], next: '' }
          return { coupons: page.coupons, nextPageToken: page.next }
        },
      })
      service(BookingService, {
        getReservation: (req) => ({
          reservation: create(ReservationSchema, { name: req.name, localStart: '2026-12-08 10:00' }),
        }),
      })
      service(UserService, {
        listUsers: (req) => {
          expect(req.parent).toBe(TENANT)
          const all = [
            create(UserSchema, { name: `${TENANT}/users/u1`, nickname: '小陈', phone: '13800138000' }),
            create(UserSchema, { name: `${TENANT}/users/u2`, nickname: '小李' }),
          ]
          return { users: all.filter((u) => u.nickname.includes(req.query)) }
        },
      })
      service(TenantService, {
        getModuleConfig: (req) => {
          expect(req.name).toBe(`${TENANT}/modules/marketing/config`)
          if (!f.config) throw new ConnectError('denied', Code.PermissionDenied)
          return { config: { name: req.name, config: f.config } }
        },
      })
      service(OrderService, {
        getOrder: (req) => ({ order: create(OrderSchema, { name: req.name, orderNumber: 'A0012' }) }),
      })
    }),
  )
  resetClients()
  const pinia = loggedIn(role, TENANT)
  useAuthStore().session!.permissions = permissions
  useWorkspaceStore().states = [
    create(TenantModuleSchema, { moduleId: 'ordering', enabled: true }),
    create(TenantModuleSchema, { moduleId: 'booking', enabled: true }),
  ]
  const wrapper = mount(MembersView, {
    attachTo: document.body,
    global: {
      plugins: [pinia, i18n, ElementPlus],
      stubs: { transition: false, 'transition-group': false },
      mocks: { $router: router },
    },
  })
  await flushPromises()
  return wrapper
}

/** Picks a customer from the list, as a user clicks through the select. */
async function pick(w: VueWrapper, label: string) {
  await w.find('[data-test="member-customer"] .el-select__wrapper').trigger('click')
  await flushPromises()
  const option = [...document.querySelectorAll('.el-select-dropdown__item')].find((o) =>
    o.textContent?.includes(label),
  ) as HTMLElement
  option.click()
  await flushPromises()
}

const rows = (w: VueWrapper) => w.findAll('[data-test="points-table"] .el-table__body-wrapper tbody tr')
const couponRows = (w: VueWrapper) => w.findAll('[data-test="member-coupons"] .el-table__body-wrapper tbody tr')
const cell = (row: ReturnType<typeof rows>[number], test: string) => row.find(`[data-test="${test}"]`).text()
const text = (w: VueWrapper, test: string) => w.find(`[data-test="${test}"]`).text()
const dialog = () => document.querySelector('[data-test="adjust-dialog"]')!

async function fillAdjust(direction: 'add' | 'take', amount: string, reason: string) {
  ;(dialog().querySelector(`[data-test="adjust-${direction}"] input`) as HTMLInputElement).click()
  const input = dialog().querySelector('[data-test="adjust-amount"] input') as HTMLInputElement
  input.value = amount
  input.dispatchEvent(new Event('input'))
  input.dispatchEvent(new Event('change'))
  const why = dialog().querySelector('textarea[name="adjust-reason"]') as HTMLTextAreaElement
  why.value = reason
  why.dispatchEvent(new Event('input'))
  await flushPromises()
}

describe('MembersView', () => {
  beforeEach(() => {
    localStorage.clear()
    document.body.innerHTML = ''
  })

  it('finds a customer by nickname, shows their card and the way to the next level, and pages their history', async () => {
    const f = fake()
    const w = await mountPage(f)
    expect(w.find('[data-test="members-hint"]').exists()).toBe(true)
    await pick(w, '小陈')

    expect(f.gets.map((g) => g.name)).toEqual([MEMBER])
    expect(text(w, 'member-label')).toBe('小陈 · 13800138000')
    expect(text(w, 'member-points')).toContain('120')
    expect(text(w, 'member-lifetime-points')).toContain('300')
    expect(text(w, 'member-lifetime-spend')).toContain('300.00')
    expect(text(w, 'member-level-name')).toBe('银卡')
    expect(text(w, 'member-level')).toContain('下单享 9.5 折')
    expect(text(w, 'member-level')).toContain('生日双倍积分')
    // ¥300 of the way from ¥100 to ¥500: half, ¥200 to go.
    expect(text(w, 'member-progress-text')).toBe('再消费 ¥200 可升级为“金卡”')
    expect(w.find('[data-test="member-progress"]').exists()).toBe(true)

    expect(rows(w)).toHaveLength(2)
    const [first, second] = rows(w)
    expect(first!.find('[data-test="entry-delta"]').text()).toBe('-30')
    expect(first!.find('[data-test="entry-kind"]').text()).toBe('人工调整')
    expect(first!.find('[data-test="entry-detail"]').text()).toBe('兑换礼品')
    expect(second!.find('[data-test="entry-delta"]').text()).toBe('+100')
    expect(second!.find('[data-test="entry-kind"]').text()).toBe('消费获得')
    // The order by the number people know it by.
    expect(second!.find('[data-test="entry-detail"]').text()).toBe('订单 A0012')
    await w.find('[data-test="points-more"]').trigger('click')
    await flushPromises()
    expect(rows(w)).toHaveLength(3)
    expect(rows(w)[2]!.find('[data-test="entry-balance"]').text()).toBe('50')
    expect(w.find('[data-test="points-more"]').exists()).toBe(false)
    w.unmount()
  })

  it('adjusts once per opened dialog however often it is sent, and words a refusal beside the amount', async () => {
    const f = fake()
    f.loseFirstAnswer = true
    const w = await mountPage(f)
    await pick(w, '小陈')
    await w.find('[data-test="member-adjust"]').trigger('click')
    await flushPromises()
    await fillAdjust('add', '50', '老顾客回馈')
    expect(dialog().querySelector('[data-test="adjust-after"]')?.textContent).toBe('调整后 170 积分')
    // Sent, made, but the answer lost on the way: the dialog stays open, the user clicks again.
    const save = dialog().querySelector('[data-test="adjust-save"]') as HTMLButtonElement
    save.click()
    await flushPromises()
    expect(dialog().querySelector('[data-test="adjust-save"]')).not.toBeNull()
    save.click()
    await flushPromises()

    expect(f.adjusts).toHaveLength(2)
    expect(new Set(f.adjusts.map((a) => a.requestId)).size).toBe(1)
    const sent = f.adjusts[0]!
    expect([sent.member, sent.delta, sent.reason]).toEqual([MEMBER, 50n, '老顾客回馈'])
    expect(sent.requestId.length).toBeGreaterThanOrEqual(8)
    expect(text(w, 'member-points')).toContain('170')
    expect(rows(w)).toHaveLength(3)
    expect(rows(w)[0]!.find('[data-test="entry-delta"]').text()).toBe('+50')
    expect(rows(w)[0]!.find('[data-test="entry-detail"]').text()).toBe('老顾客回馈')

    // Opened again: a new request id. Taking more than the balance is the server's to refuse.
    await w.find('[data-test="member-adjust"]').trigger('click')
    await flushPromises()
    await fillAdjust('take', '999', '清零')
    ;(dialog().querySelector('[data-test="adjust-save"]') as HTMLButtonElement).click()
    await flushPromises()
    const taken = f.adjusts.at(-1)!
    expect(taken.delta).toBe(-999n)
    expect(taken.requestId).not.toBe(sent.requestId)
    await vi.waitFor(() => {
      const errors = [...dialog().querySelectorAll('.el-form-item.is-error')]
      expect(errors).toHaveLength(1)
      expect(errors[0]!.querySelector('[data-test="adjust-amount"]')).not.toBeNull()
      expect(errors[0]!.querySelector('.el-form-item__error')?.textContent?.trim()).toBe(
        '可用积分不足，扣减后积分不能为负数',
      )
    })
    // The card was read again, and nothing was taken.
    expect(f.gets).toHaveLength(2)
    expect(text(w, 'member-points')).toContain('170')
    expect(rows(w)).toHaveLength(3)
    w.unmount()
  })

  it('asks for an amount and a reason before sending anything', async () => {
    const f = fake()
    const w = await mountPage(f)
    await pick(w, '小陈')
    await w.find('[data-test="member-adjust"]').trigger('click')
    await flushPromises()
    ;(dialog().querySelector('[data-test="adjust-save"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(f.adjusts).toHaveLength(0)
    await vi.waitFor(() => {
      const said = [...dialog().querySelectorAll('.el-form-item__error')].map((e) => e.textContent?.trim())
      expect(said).toEqual(['每次可调整 1 到 1000000 积分', '请填写调整原因'])
    })
    w.unmount()
  })

  it("lets staff type a customer's id, never adjust, and see the next level without the settings", async () => {
    const f = fake()
    f.config = undefined
    const w = await mountPage(f, 'staff', ['marketing.members.read', 'marketing.members.manage'])
    expect(w.find('[data-test="member-customer"]').exists()).toBe(false)
    expect(w.find('[data-test="members-settings"]').exists()).toBe(false)
    const id = w.find('input[name="member-customer-id"]')
    await id.setValue(' u1 ')
    await id.trigger('change')
    await flushPromises()

    expect(f.gets.map((g) => g.name)).toEqual([MEMBER])
    expect(text(w, 'member-label')).toBe('顾客 u1')
    expect(text(w, 'member-points')).toContain('120')
    // AdjustPoints admits admins and operators only, whatever a staff member holds.
    expect(w.find('[data-test="member-adjust"]').exists()).toBe(false)
    expect(w.find('[data-test="member-progress"]').exists()).toBe(false)
    expect(text(w, 'member-next')).toBe('下一等级：金卡')
    w.unmount()

    const admin = await mountPage(fake())
    expect(admin.find('[data-test="members-settings"]').exists()).toBe(true)
    await pick(admin, '小陈')
    expect(admin.find('[data-test="member-adjust"]').exists()).toBe(true)
    admin.unmount()
  })

  it('words the new ledger kinds: points paid and given back, and a completed booking with no order', async () => {
    const f = fake()
    f.pages[''] = {
      entries: [
        entry('e4', { delta: 88n, balanceAfter: 188n, kind: 'BOOKING_COMPLETED', order: '' }),
        entry('e3', { delta: 500n, balanceAfter: 100n, kind: 'ORDER_RETURNED', order: `${TENANT}/orders/o1` }),
        entry('e2', { delta: -500n, balanceAfter: -400n, kind: 'ORDER_SPENT', order: `${TENANT}/orders/o1` }),
        entry('e1', { delta: 1n, balanceAfter: 1n, kind: 'SOMETHING_NEW', order: '' }),
      ],
      next: '',
    }
    const w = await mountPage(f)
    await pick(w, '小陈')
    expect(rows(w).map((r) => [cell(r, 'entry-kind'), cell(r, 'entry-detail')])).toEqual([
      ['预约完成', ''],
      ['积分退回', '订单 A0012'],
      ['积分抵扣', '订单 A0012'],
      ['SOMETHING_NEW', ''],
    ])
    w.unmount()
  })

  it("lists the customer's coupons, a booking's deposit as 预约 with the calendar on its day, an order by its number", async () => {
    const f = fake()
    const router = { push: vi.fn() }
    const w = await mountPage(f, 'admin', [], router)
    await pick(w, '小陈')

    expect(f.couponAsks.map((a) => [a.parent, a.customer, a.states, a.pageToken])).toEqual([
      [TENANT, `${TENANT}/users/u1`, [], ''],
    ])
    const list = () =>
      couponRows(w).map((r) => [cell(r, 'coupon-title'), cell(r, 'coupon-state'), cell(r, 'coupon-used-on')])
    expect(list()).toEqual([
      ['定金立减券', '已使用', '预约 2026-12-08 10:00'],
      ['立减5元', '占用中', '订单 A0012'],
    ])
    expect(couponRows(w)[0]!.text()).toContain('立减10元')
    expect(couponRows(w)[0]!.text()).toContain('2026-12-31')
    // The booking is one click from the calendar on its day; an order is not a link.
    expect(couponRows(w)[1]!.find('a[data-test="coupon-used-on"], .el-link').exists()).toBe(false)
    await couponRows(w)[0]!.find('.el-link').trigger('click')
    expect(router.push).toHaveBeenCalledWith({ path: '/booking/calendar', query: { date: '2026-12-08' } })

    await w.find('[data-test="coupons-more"]').trigger('click')
    await flushPromises()
    expect(list()[2]).toEqual(['新人券', '可使用', ''])
    expect(w.find('[data-test="coupons-more"]').exists()).toBe(false)
    w.unmount()
  })

  it('shows a booking by its id to staff who may not read reservations, and no coupons to staff who may not read them', async () => {
    const f = fake()
    const w = await mountPage(f, 'staff', ['identity.users.read', 'marketing.members.read', 'marketing.coupons.read'])
    await pick(w, '小陈')
    expect(couponRows(w).map((r) => cell(r, 'coupon-used-on'))).toEqual(['预约 r1', '订单 o1'])
    expect(w.find('[data-test="member-coupons"] .el-link').exists()).toBe(false)
    w.unmount()

    const g = fake()
    const without = await mountPage(g, 'staff', ['identity.users.read', 'marketing.members.read'])
    await pick(without, '小陈')
    expect(text(without, 'member-points')).toContain('120')
    expect(without.find('[data-test="member-coupons"]').exists()).toBe(false)
    expect(g.couponAsks).toHaveLength(0)
    without.unmount()
  })
})
