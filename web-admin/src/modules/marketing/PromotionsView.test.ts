// The promotions page against a fake PromotionService (createRouterTransport), on 15 December
// 2026: the calendar shows the month's promotions as bars and asks for another month's when moved
// to; the list words each one's offer, scope and state; who may manage promotions sees the
// buttons for it, and no one else; the create form is checked before it is sent, sends yuan as
// fen, and shows the server's refusal beside the field it names; stopping asks first and sends
// the state alone; an edit sends only what changed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import ElementPlus, { ElMessageBox } from 'element-plus'
import { clone, create } from '@bufbuild/protobuf'
import { timestampFromMs, timestampMs, type Timestamp } from '@bufbuild/protobuf/wkt'
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect'
import { BadRequestSchema, ErrorInfoSchema } from '@/gen/google/rpc/error_details_pb'
import {
  PromotionService,
  type CreatePromotionRequest,
  type ListPromotionsRequest,
  type UpdatePromotionRequest,
} from '@/gen/minimodules/marketing/v1/marketing_service_pb'
import {
  PromotionKind,
  PromotionSchema,
  PromotionState,
  type Promotion,
} from '@/gen/minimodules/marketing/v1/promotion_pb'
import { setTransport } from '@/api/transport'
import { resetClients } from '@/api/clients'
import { i18n } from '@/locales'
import { loggedIn } from '@/stores/testing'
import { useAuthStore, type RoleName } from '@/stores/auth'
import PromotionsView from './PromotionsView.vue'

const TENANT = 'tenants/t1'
const at = (y: number, m: number, d: number, h = 0, mi = 0, s = 0) => new Date(y, m - 1, d, h, mi, s).getTime()
const NOW = at(2026, 12, 15, 10)

function promo(id: string, start: number, end: number, init: Partial<Omit<Promotion, '$typeName' | '$unknown'>> = {}) {
  return create(PromotionSchema, {
    name: `${TENANT}/promotions/${id}`,
    titleZh: `活动${id}`,
    kind: PromotionKind.TIERED,
    tiers: [
      { thresholdFen: 5000n, amountOffFen: 500n },
      { thresholdFen: 10000n, amountOffFen: 1500n },
    ],
    state: PromotionState.ACTIVE,
    startTime: timestampFromMs(start),
    endTime: timestampFromMs(end),
    ...init,
  })
}

interface Fake {
  all: Promotion[]
  lists: ListPromotionsRequest[]
  creates: CreatePromotionRequest[]
  updates: UpdatePromotionRequest[]
  /** Refuse the next create with this field violation. */
  refuse?: { field: string; reason: string }
}

function fake(): Fake {
  return {
    all: [
      // Running now, latest start first as the server lists them.
      promo('run', at(2026, 12, 10), at(2026, 12, 20, 23, 59, 59)),
      promo('soon', at(2026, 12, 18), at(2026, 12, 25), {
        kind: PromotionKind.PERCENT_OFF,
        tiers: [],
        percentOff: 20,
        products: [`${TENANT}/products/a`, `${TENANT}/products/b`],
      }),
      promo('past', at(2026, 12, 1), at(2026, 12, 5), { categories: [`${TENANT}/categories/c`] }),
      promo('off', at(2026, 12, 2), at(2026, 12, 30), { state: PromotionState.STOPPED }),
      promo('jan', at(2027, 1, 10), at(2027, 1, 12)),
    ],
    lists: [],
    creates: [],
    updates: [],
  }
}

const ms = (t: Timestamp | undefined) => (t ? timestampMs(t) : 0)

async function mountPage(f: Fake, role: RoleName = 'admin', permissions: string[] = []): Promise<VueWrapper> {
  setTransport(
    createRouterTransport(({ service }) => {
      service(PromotionService, {
        listPromotions: (req) => {
          expect(req.parent).toBe(TENANT)
          f.lists.push(req)
          const [from, to] = [ms(req.windowStart), ms(req.windowEnd)]
          const promotions = f.all
            .filter((p) => ms(p.startTime) < to && ms(p.endTime) > from)
            .sort((a, b) => ms(b.startTime) - ms(a.startTime))
          return { promotions }
        },
        createPromotion: (req) => {
          f.creates.push(req)
          if (f.refuse) {
            const v = f.refuse
            f.refuse = undefined
            throw new ConnectError('invalid', Code.InvalidArgument, undefined, [
              { desc: ErrorInfoSchema, value: { reason: 'INVALID_ARGUMENT', domain: 'marketing.minimodules' } },
              { desc: BadRequestSchema, value: { fieldViolations: [{ ...v, description: 'for developers' }] } },
            ])
          }
          const p = clone(PromotionSchema, req.promotion!)
          p.name = `${TENANT}/promotions/new`
          p.state = PromotionState.ACTIVE
          f.all.push(p)
          return { promotion: p }
        },
        updatePromotion: (req) => {
          f.updates.push(req)
          const before = f.all.find((x) => x.name === req.promotion?.name)!
          const after = clone(PromotionSchema, before)
          for (const path of req.updateMask?.paths ?? []) {
            if (path === 'state') after.state = req.promotion!.state
            if (path === 'title_zh') after.titleZh = req.promotion!.titleZh
            if (path === 'end_time') after.endTime = req.promotion!.endTime
          }
          f.all = f.all.map((x) => (x.name === after.name ? after : x))
          return { promotion: after }
        },
      })
    }),
  )
  resetClients()
  const pinia = loggedIn(role, TENANT)
  useAuthStore().session!.permissions = permissions
  const wrapper = mount(PromotionsView, {
    attachTo: document.body,
    global: { plugins: [pinia, i18n, ElementPlus], stubs: { transition: false, 'transition-group': false } },
  })
  await flushPromises()
  return wrapper
}

const bars = (w: VueWrapper, date: string) =>
  w
    .findAll(`[data-test="day-${date}"] [data-test="promotion-bar"]`)
    .map((b) => b.attributes('data-name')!.split('/').pop())
const rows = (w: VueWrapper) => w.findAll('[data-test="promotions-table"] .el-table__body-wrapper tbody tr')
const row = (w: VueWrapper, title: string) =>
  rows(w).find((r) => r.find('[data-test="promotion-title"]').text() === title)!
/** The buttons of the rows (Element Plus also renders a column's slot once outside them). */
const buttons = (w: VueWrapper, test: string) => rows(w).flatMap((r) => r.findAll(`[data-test="${test}"]`))
async function showList(w: VueWrapper) {
  await w.find('[data-test="view-list"] input').setValue(true)
  await flushPromises()
}

describe('PromotionsView', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(NOW)
    localStorage.clear()
    document.body.innerHTML = ''
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it("shows the month's promotions on the calendar, and asks for the next month's", async () => {
    const f = fake()
    const w = await mountPage(f)
    expect(f.lists).toHaveLength(1)
    expect([ms(f.lists[0]!.windowStart), ms(f.lists[0]!.windowEnd)]).toEqual([at(2026, 12, 1), at(2027, 1, 1)])
    expect(w.find('[data-test="month-label"]').text()).toBe('2026年12月')
    expect(w.find('[data-test="promotions-count"]').text()).toBe('本月共 4 个活动')
    expect(bars(w, '2026-12-01')).toEqual(['past'])
    expect(bars(w, '2026-12-10')).toEqual(['off', 'run'])
    expect(bars(w, '2026-12-18')).toEqual(['off', 'run', 'soon'])
    expect(bars(w, '2026-12-31')).toEqual([])
    // Its title on the bar's first day, grey once stopped.
    const first = w.find('[data-test="day-2026-12-10"] [data-name$="/run"]')
    expect(first.text()).toBe('活动run')
    expect(w.find('[data-test="day-2026-12-11"] [data-name$="/run"]').text()).toBe('')
    expect(w.find('[data-test="day-2026-12-10"] [data-name$="/off"]').classes()).toContain('faded')

    await w.find('[data-test="month-next"]').trigger('click')
    await flushPromises()
    expect([ms(f.lists[1]!.windowStart), ms(f.lists[1]!.windowEnd)]).toEqual([at(2027, 1, 1), at(2027, 2, 1)])
    expect(w.find('[data-test="month-label"]').text()).toBe('2027年1月')
    expect(bars(w, '2027-01-10')).toEqual(['jan'])
    expect(bars(w, '2027-01-13')).toEqual([])
    await w.find('[data-test="month-today"]').trigger('click')
    await flushPromises()
    expect(f.lists).toHaveLength(3)
    expect(bars(w, '2026-12-18')).toHaveLength(3)
    w.unmount()
  })

  it('opens a promotion from its bar', async () => {
    const w = await mountPage(fake())
    await w.find('[data-test="day-2026-12-20"] [data-name$="/soon"]').trigger('click')
    await flushPromises()
    const drawer = document.querySelector('[data-test="promotion-drawer"]')!
    expect(drawer.querySelector('[data-test="drawer-summary"]')?.textContent).toBe('8折')
    expect(drawer.querySelector('[data-test="drawer-state"]')?.textContent?.trim()).toBe('未开始')
    expect(drawer.textContent).toContain('2026-12-18 00:00 至 2026-12-25 00:00')
    expect(drawer.textContent).toContain('2 个商品')
    expect(drawer.querySelector('[data-test="drawer-stop"]')).not.toBeNull()
    w.unmount()
  })

  it('lists each one’s offer, products, dates and where it stands', async () => {
    const w = await mountPage(fake())
    await showList(w)
    expect(rows(w)).toHaveLength(4)
    const text = (title: string, test: string) => row(w, title).find(`[data-test="${test}"]`).text()
    expect(text('活动run', 'promotion-summary')).toBe('满50减5，满100减15')
    expect(text('活动run', 'promotion-kind')).toBe('满减')
    expect(text('活动soon', 'promotion-summary')).toBe('8折')
    expect(text('活动soon', 'promotion-kind')).toBe('限时折扣')
    expect(text('活动run', 'promotion-scope')).toBe('全部商品')
    expect(text('活动soon', 'promotion-scope')).toBe('2 个商品')
    expect(text('活动past', 'promotion-scope')).toBe('1 个分类')
    expect(row(w, '活动run').find('[data-test="promotion-period"]').text()).toContain('2026-12-10 00:00')
    expect(row(w, '活动run').find('[data-test="promotion-period"]').text()).toContain('2026-12-20 23:59')
    expect(['活动run', '活动soon', '活动past', '活动off'].map((x) => text(x, 'promotion-state'))).toEqual([
      '进行中',
      '未开始',
      '已结束',
      '已停止',
    ])
    w.unmount()
  })

  it('shows creating, editing and stopping only to who may', async () => {
    const admin = await mountPage(fake())
    await showList(admin)
    expect(admin.find('[data-test="create-promotion"]').exists()).toBe(true)
    // Running and scheduled ones stop; all but the stopped one change.
    expect(buttons(admin, 'promotion-stop')).toHaveLength(2)
    expect(buttons(admin, 'promotion-edit')).toHaveLength(3)
    admin.unmount()

    // Staff never manage promotions (the service allows admins and operators), permission or not.
    const staff = await mountPage(fake(), 'staff', ['marketing.promotions.read', 'marketing.promotions.manage'])
    await showList(staff)
    expect(staff.find('[data-test="create-promotion"]').exists()).toBe(false)
    expect(buttons(staff, 'promotion-stop')).toHaveLength(0)
    expect(buttons(staff, 'promotion-edit')).toHaveLength(0)
    expect(rows(staff)).toHaveLength(4)
    staff.unmount()
  })

  it('checks the form, sends yuan as fen, and shows the server’s refusal beside the end', async () => {
    const f = fake()
    f.refuse = { field: 'promotion.end_time', reason: 'IN_THE_PAST' }
    const w = await mountPage(f)
    await w.find('[data-test="create-promotion"]').trigger('click')
    await flushPromises()
    const dialog = () => document.querySelector('[data-test="promotion-dialog"]')!
    const type = async (input: HTMLInputElement, value: string) => {
      input.value = value
      input.dispatchEvent(new Event('input'))
      input.dispatchEvent(new Event('change'))
      await flushPromises()
    }
    const tier = (i: number, which: 'threshold' | 'amount') => {
      const rows = dialog().querySelectorAll('[data-test="promotion-tier"]')
      return rows.item(i).querySelector(`[data-test="tier-${which}"] input`) as HTMLInputElement
    }
    const errors = () =>
      [...dialog().querySelectorAll('.el-form-item.is-error')].map((e) =>
        e.querySelector('.el-form-item__error')?.textContent?.trim(),
      )
    const save = async () => {
      ;(dialog().querySelector('[data-test="promotion-save"]') as HTMLButtonElement).click()
      await flushPromises()
    }

    await type(dialog().querySelector('input[name="promotion-title"]') as HTMLInputElement, '午市满减')
    await type(tier(0, 'threshold'), '50')
    await type(tier(0, 'amount'), '5')
    ;(dialog().querySelector('[data-test="tier-add"]') as HTMLButtonElement).click()
    await flushPromises()
    await type(tier(1, 'threshold'), '100')
    await type(tier(1, 'amount'), '5')
    expect(dialog().querySelector('[data-test="promotion-preview"]')?.textContent).toContain('满50减5，满100减5')
    // Not rising: refused before sending, beside the second tier.
    await save()
    expect(f.creates).toHaveLength(0)
    await vi.waitFor(() => expect(errors()).toEqual(['门槛和减免金额都须高于上一档']))
    expect(dialog().querySelectorAll('[data-test="promotion-tier"]')[1]!.classList).toContain('is-error')

    await type(tier(1, 'amount'), '15.5')
    await vi.waitFor(() => expect(errors()).toEqual([]))
    await save()
    expect(f.creates).toHaveLength(1)
    const sent = f.creates[0]!
    expect(sent.parent).toBe(TENANT)
    expect(sent.promotion?.titleZh).toBe('午市满减')
    expect(sent.promotion?.kind).toBe(PromotionKind.TIERED)
    expect(sent.promotion?.tiers.map((x) => [x.thresholdFen, x.amountOffFen])).toEqual([
      [5000n, 500n],
      [10000n, 1550n],
    ])
    expect([sent.promotion?.products, sent.promotion?.categories, sent.promotion?.percentOff]).toEqual([[], [], 0])
    expect([ms(sent.promotion?.startTime), ms(sent.promotion?.endTime)]).toEqual([
      at(2026, 12, 15),
      at(2026, 12, 21, 23, 59, 59),
    ])
    await vi.waitFor(() => expect(errors()).toEqual(['结束时间已过，请选择以后的时间']))
    expect(dialog().querySelector('.is-error [data-test="promotion-end"]')).not.toBeNull()

    // Sent again, it is created and shows on the calendar.
    await save()
    expect(f.creates).toHaveLength(2)
    await vi.waitFor(() => expect(bars(w, '2026-12-21')).toContain('new'))
    expect(bars(w, '2026-12-22')).not.toContain('new')
    expect(w.find('[data-test="promotions-count"]').text()).toBe('本月共 5 个活动')
    w.unmount()
  })

  it('stops a promotion by its state alone, after asking', async () => {
    const f = fake()
    const w = await mountPage(f)
    await showList(w)
    const confirm = vi.spyOn(ElMessageBox, 'confirm').mockResolvedValue('confirm' as never)
    await row(w, '活动run').find('[data-test="promotion-stop"]').trigger('click')
    await flushPromises()
    expect(confirm).toHaveBeenCalledOnce()
    expect(String(confirm.mock.calls[0]![0])).toContain('活动run')
    expect(f.updates).toHaveLength(1)
    expect(f.updates[0]!.updateMask?.paths).toEqual(['state'])
    expect(f.updates[0]!.promotion?.name).toBe(`${TENANT}/promotions/run`)
    expect(f.updates[0]!.promotion?.state).toBe(PromotionState.STOPPED)
    expect(row(w, '活动run').find('[data-test="promotion-state"]').text()).toBe('已停止')
    expect(row(w, '活动run').find('[data-test="promotion-stop"]').exists()).toBe(false)
    expect(row(w, '活动run').find('[data-test="promotion-edit"]').exists()).toBe(false)
    confirm.mockRestore()
    w.unmount()
  })

  it('does not stop what was not confirmed, and edits only what changed', async () => {
    const f = fake()
    const w = await mountPage(f)
    await showList(w)
    const confirm = vi.spyOn(ElMessageBox, 'confirm').mockRejectedValue('cancel' as never)
    await row(w, '活动run').find('[data-test="promotion-stop"]').trigger('click')
    await flushPromises()
    expect(f.updates).toHaveLength(0)
    confirm.mockRestore()

    await row(w, '活动run').find('[data-test="promotion-edit"]').trigger('click')
    await flushPromises()
    const dialog = document.querySelector('[data-test="promotion-edit-dialog"]')!
    const title = dialog.querySelector('input[name="promotion-edit-title"]') as HTMLInputElement
    expect(title.value).toBe('活动run')
    title.value = '晚市满减'
    title.dispatchEvent(new Event('input'))
    await flushPromises()
    ;(dialog.querySelector('[data-test="promotion-edit-save"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(f.updates).toHaveLength(1)
    expect(f.updates[0]!.updateMask?.paths).toEqual(['title_zh'])
    expect(f.updates[0]!.promotion?.titleZh).toBe('晚市满减')
    await vi.waitFor(() =>
      expect(rows(w).map((r) => r.find('[data-test="promotion-title"]').text())).toContain('晚市满减'),
    )
    w.unmount()
  })
})
