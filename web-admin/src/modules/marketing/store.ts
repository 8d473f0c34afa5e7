// The marketing pages' state: the shop's coupon templates (paged, newest first, as the server
// lists them) and the catalog's products and categories the create forms pick from; on the
// members page, the one customer's member card, points history and coupons being looked at; on the
// promotions page, the promotions running at some time in the month shown (latest start first).
// Every change goes through CouponService, MemberService or PromotionService and puts the
// server's answer on screen, so what is shown is the server's.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { create as message } from '@bufbuild/protobuf'
import { timestampFromMs } from '@bufbuild/protobuf/wkt'
import {
  CouponState,
  CouponTemplateSchema,
  CouponTemplateState,
  type Coupon,
  type CouponTemplate,
  type Member,
  type PointsEntry,
} from '@/gen/minimodules/marketing/v1/coupon_pb'
import type { Category, Product } from '@/gen/minimodules/catalog/v1/catalog_pb'
import * as api from '@/api/clients'
import { useAuthStore } from '@/stores/auth'
import { useWorkspaceStore } from '@/stores/workspace'
import { PromotionSchema, PromotionState, type Promotion } from '@/gen/minimodules/marketing/v1/promotion_pb'
import { CouponService, MemberService, PromotionService } from '@/gen/minimodules/marketing/v1/marketing_service_pb'
import { levelsByOf, memberOf, spentOn, type LevelsBy } from './members'
import { overlaps, windowOf } from './promotions'

const coupons = () => api.client(CouponService)
const members = () => api.client(MemberService)
const promotionsApi = () => api.client(PromotionService)

/** Templates per page of the list. */
export const PAGE_SIZE = 20
/** Products the pickers read at most (pages of 100). */
const PRODUCT_LIMIT = 1000
/** Points entries per page of a member's history. */
export const ENTRIES_PAGE_SIZE = 20
/** A member's coupons per page. */
export const COUPONS_PAGE_SIZE = 20

export const useMarketingStore = defineStore('marketing', () => {
  const ws = useWorkspaceStore()
  const auth = useAuthStore()
  const templates = ref<CouponTemplate[]>([])
  const next = ref('')
  const loading = ref(false)

  /** The first page, or with `more` the next one after those shown. */
  async function load(more = false) {
    loading.value = true
    try {
      const res = await coupons().listCouponTemplates({
        parent: ws.tenantName,
        pageSize: PAGE_SIZE,
        pageToken: more ? next.value : '',
      })
      templates.value = more ? [...templates.value, ...res.templates] : res.templates
      next.value = res.nextPageToken
    } finally {
      loading.value = false
    }
  }

  /** Puts the server's copy of a template in the list, in place (or first, for a new one). */
  function put(t: CouponTemplate | undefined) {
    if (!t) return
    const i = templates.value.findIndex((x) => x.name === t.name)
    if (i >= 0) templates.value.splice(i, 1, t)
    else templates.value.unshift(t)
  }

  async function create(template: CouponTemplate): Promise<CouponTemplate | undefined> {
    const res = await coupons().createCouponTemplate({ parent: ws.tenantName, template })
    put(res.template)
    return res.template
  }

  /** Changes the fields `paths` names (snake_case, as the contract's update_mask). */
  async function update(template: CouponTemplate, paths: string[]): Promise<CouponTemplate | undefined> {
    const res = await coupons().updateCouponTemplate({ template, updateMask: { paths } })
    put(res.template)
    return res.template
  }

  /** Stops a template (nothing more handed out) or restarts it. */
  function setState(t: CouponTemplate, state: CouponTemplateState) {
    return update(message(CouponTemplateSchema, { name: t.name, state }), ['state'])
  }

  /** Reads one template again, for its latest numbers. */
  async function refresh(name: string): Promise<CouponTemplate | undefined> {
    const res = await coupons().getCouponTemplate({ name })
    put(res.template)
    return res.template
  }

  /** Gives `customer` a coupon of `template`; `requestId` makes a repeated click give one. */
  async function issue(template: string, customer: string, requestId: string) {
    const res = await coupons().issueCoupon({ template, customer, requestId })
    await refresh(template).catch(() => undefined)
    return res.coupon
  }

  /** A customer's coupons they can use now. */
  async function usableCoupons(customer: string) {
    const res = await coupons().listCoupons({
      parent: ws.tenantName,
      customer,
      states: [CouponState.AVAILABLE],
      pageSize: 100,
    })
    return res.coupons
  }

  // The catalog, for the product scope and the free item: read when the shop has it on and the
  // user may read it; otherwise the form offers all products only.
  const products = ref<Product[]>([])
  const categories = ref<Category[]>([])
  const catalogFor = ref('')
  const catalogReadable = computed(() => ws.enabled.has('catalog') && auth.can('catalog.products.read'))
  const productByName = computed(() => new Map(products.value.map((p) => [p.name, p])))
  const categoryByName = computed(() => new Map(categories.value.map((c) => [c.name, c])))

  async function loadCatalog(force = false) {
    const tenant = ws.tenantName
    if (!catalogReadable.value || (!force && catalogFor.value === tenant)) return
    const all: Product[] = []
    let token = ''
    do {
      const res = await api.catalog().listProducts({ parent: tenant, pageSize: 100, pageToken: token })
      all.push(...res.products)
      token = res.nextPageToken
    } while (token && all.length < PRODUCT_LIMIT)
    const cats = await api.catalog().listCategories({ parent: tenant })
    products.value = all
    categories.value = cats.categories
    catalogFor.value = tenant
  }

  // Members: one customer at a time (the user name "tenants/{t}/users/{u}"). A slow answer about
  // a customer no longer looked at is dropped, so the card never shows someone else's points.
  const customer = ref('')
  const member = ref<Member | null>(null)
  const entries = ref<PointsEntry[]>([])
  const entriesNext = ref('')
  const memberLoading = ref(false)
  const entriesLoading = ref(false)
  /** The shop's `levels_by`; undefined until read, or when the user may not read settings. */
  const levelsBy = ref<LevelsBy | undefined>()
  /** Order numbers of the orders entries came from and coupons went to, by order name, for who may read orders. */
  const orderNumbers = ref(new Map<string, string>())
  /**
   * When the bookings coupons went to start ("YYYY-MM-DD HH:MM", the shop's time), by reservation
   * name, for who may read reservations.
   */
  const reservationStarts = ref(new Map<string, string>())
  /** The customer's coupons, whatever their state, newest first, for who may read coupons. */
  const memberCoupons = ref<Coupon[]>([])
  const couponsNext = ref('')
  const couponsLoading = ref(false)

  /** Looks at `name`'s member card and the first page of their history; '' looks at no one. */
  async function openMember(name: string) {
    customer.value = name
    member.value = null
    entries.value = []
    entriesNext.value = ''
    memberCoupons.value = []
    couponsNext.value = ''
    couponsLoading.value = false
    memberLoading.value = !!name
    if (!name) return
    try {
      const [m, page] = await Promise.all([
        members().getMember({ name: memberOf(name) }),
        members().listPointsEntries({ parent: memberOf(name), pageSize: ENTRIES_PAGE_SIZE }),
      ])
      if (customer.value !== name) return
      member.value = m.member ?? null
      entries.value = page.entries
      entriesNext.value = page.nextPageToken
      void loadUses(page.entries.map((e) => e.order))
    } finally {
      if (customer.value === name) memberLoading.value = false
    }
  }

  /**
   * The customer looked at's coupons: the first page, or with `more` the next one after those
   * shown. A slow answer about a customer no longer looked at is dropped.
   */
  async function loadCoupons(more = false) {
    const name = customer.value
    if (!more) {
      memberCoupons.value = []
      couponsNext.value = ''
    }
    if (!name || (more && !couponsNext.value)) return
    couponsLoading.value = true
    try {
      const page = await coupons().listCoupons({
        parent: ws.tenantName,
        customer: name,
        pageSize: COUPONS_PAGE_SIZE,
        pageToken: more ? couponsNext.value : '',
      })
      if (customer.value !== name) return
      memberCoupons.value = more ? [...memberCoupons.value, ...page.coupons] : page.coupons
      couponsNext.value = page.nextPageToken
      void loadUses(page.coupons.map((c) => c.order))
    } finally {
      if (customer.value === name) couponsLoading.value = false
    }
  }

  /** Reads the member card again (after a refused adjustment: the balance may have moved). */
  async function refreshMember() {
    const name = customer.value
    if (!name) return
    const m = await members().getMember({ name: memberOf(name) })
    if (customer.value === name) member.value = m.member ?? null
  }

  /** The next page of the history. */
  async function moreEntries() {
    const name = customer.value
    if (!name || !entriesNext.value) return
    entriesLoading.value = true
    try {
      const page = await members().listPointsEntries({
        parent: memberOf(name),
        pageSize: ENTRIES_PAGE_SIZE,
        pageToken: entriesNext.value,
      })
      if (customer.value !== name) return
      entries.value = [...entries.value, ...page.entries]
      entriesNext.value = page.nextPageToken
      void loadUses(page.entries.map((e) => e.order))
    } finally {
      entriesLoading.value = false
    }
  }

  /**
   * Adds (positive) or takes (negative) points; `requestId` makes a repeated click adjust once.
   * The server's member and entry go on screen (a repeat's entry is there already).
   */
  async function adjustPoints(delta: bigint, reason: string, requestId: string) {
    const name = customer.value
    const res = await members().adjustPoints({ member: memberOf(name), delta, reason, requestId })
    if (customer.value !== name) return res
    if (res.member) member.value = res.member
    const entry = res.entry
    if (entry && !entries.value.some((e) => e.name === entry.name)) entries.value = [entry, ...entries.value]
    return res
  }

  /** The shop's `levels_by` from marketing's config; left unknown when it cannot be read. */
  async function loadLevelsBy() {
    try {
      const res = await api.tenants().getModuleConfig({ name: `${ws.tenantName}/modules/marketing/config` })
      levelsBy.value = levelsByOf(res.config?.config)
    } catch {
      // No permission to read settings: the card shows the next level without the way there.
      levelsBy.value = undefined
    }
  }

  // An entry or a coupon names its order by id; people know orders by their number. A coupon
  // taken off a booking's deposit names its reservation; people know bookings by when they are.
  // Each is read once, for who may read it; one that cannot be read keeps its id.
  async function loadUses(names: string[]) {
    const wanted = [...new Set(names)]
    const orders = ws.enabled.has('ordering') && auth.can('ordering.orders.read')
    const bookings = ws.enabled.has('booking') && auth.can('booking.reservations.read')
    const toOrders = orders ? wanted.filter((n) => spentOn(n)?.kind === 'order' && !orderNumbers.value.has(n)) : []
    const toBookings = bookings
      ? wanted.filter((n) => spentOn(n)?.kind === 'reservation' && !reservationStarts.value.has(n))
      : []
    const [numbers, starts] = await Promise.all([
      Promise.allSettled(toOrders.map((name) => api.ordering().getOrder({ name }))),
      Promise.allSettled(toBookings.map((name) => api.booking().getReservation({ name }))),
    ])
    if (toOrders.length) {
      const next = new Map(orderNumbers.value)
      numbers.forEach((r, i) => {
        if (r.status === 'fulfilled' && r.value.order?.orderNumber) next.set(toOrders[i]!, r.value.order.orderNumber)
      })
      orderNumbers.value = next
    }
    if (toBookings.length) {
      const next = new Map(reservationStarts.value)
      starts.forEach((r, i) => {
        if (r.status === 'fulfilled' && r.value.reservation?.localStart)
          next.set(toBookings[i]!, r.value.reservation.localStart)
      })
      reservationStarts.value = next
    }
  }

  // Promotions: those overlapping one window (the month the calendar shows). A slow answer about
  // a month no longer shown is dropped.
  const promotions = ref<Promotion[]>([])
  const promotionsLoading = ref(false)
  const promotionWindow = ref<{ start: number; end: number } | null>(null)
  let promotionsAsked = 0

  /** The promotions running at some time in [start, end), as the server lists them. */
  async function loadPromotions(window: { start: number; end: number }) {
    const asked = ++promotionsAsked
    promotionWindow.value = window
    promotionsLoading.value = true
    try {
      const res = await promotionsApi().listPromotions({
        parent: ws.tenantName,
        windowStart: timestampFromMs(window.start),
        windowEnd: timestampFromMs(window.end),
      })
      if (asked === promotionsAsked) promotions.value = res.promotions
    } finally {
      if (asked === promotionsAsked) promotionsLoading.value = false
    }
  }

  /**
   * Puts the server's copy of a promotion on screen: in place, or in start order when it is new;
   * out of the list when it no longer runs in the window shown.
   */
  function putPromotion(p: Promotion | undefined) {
    if (!p) return
    const list = promotions.value.filter((x) => x.name !== p.name)
    const w = promotionWindow.value
    if (!w || overlaps(p, w.start, w.end)) {
      const i = promotions.value.findIndex((x) => x.name === p.name)
      if (i >= 0) list.splice(i, 0, p)
      else {
        const start = windowOf(p).start
        const at = list.findIndex((x) => windowOf(x).start < start)
        list.splice(at < 0 ? list.length : at, 0, p)
      }
    }
    promotions.value = list
  }

  async function createPromotion(promotion: Promotion): Promise<Promotion | undefined> {
    const res = await promotionsApi().createPromotion({ parent: ws.tenantName, promotion })
    putPromotion(res.promotion)
    return res.promotion
  }

  /** Changes the fields `paths` names (snake_case, as the contract's update_mask). */
  async function updatePromotion(promotion: Promotion, paths: string[]): Promise<Promotion | undefined> {
    const res = await promotionsApi().updatePromotion({ promotion, updateMask: { paths } })
    putPromotion(res.promotion)
    return res.promotion
  }

  /** Stops a promotion for good. */
  function stopPromotion(p: Promotion) {
    return updatePromotion(message(PromotionSchema, { name: p.name, state: PromotionState.STOPPED }), ['state'])
  }

  return {
    templates,
    next,
    loading,
    load,
    put,
    create,
    update,
    setState,
    refresh,
    issue,
    usableCoupons,
    products,
    categories,
    catalogReadable,
    productByName,
    categoryByName,
    loadCatalog,
    customer,
    member,
    entries,
    entriesNext,
    memberLoading,
    entriesLoading,
    levelsBy,
    orderNumbers,
    reservationStarts,
    memberCoupons,
    couponsNext,
    couponsLoading,
    loadCoupons,
    openMember,
    refreshMember,
    moreEntries,
    adjustPoints,
    loadLevelsBy,
    promotions,
    promotionsLoading,
    promotionWindow,
    loadPromotions,
    putPromotion,
    createPromotion,
    updatePromotion,
    stopPromotion,
  }
})
