// The marketing pages' state: the shop's coupon templates (paged, newest first, as the server
// lists them) and the catalog's products and categories the create form picks from. Every change
// goes through CouponService and puts the server's answer in the list, so the numbers shown are
// the server's.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { create as message } from '@bufbuild/protobuf'
import {
  CouponState,
  CouponTemplateSchema,
  CouponTemplateState,
  type CouponTemplate,
} from '@/gen/minimodules/marketing/v1/coupon_pb'
import type { Category, Product } from '@/gen/minimodules/catalog/v1/catalog_pb'
import * as api from '@/api/clients'
import { useAuthStore } from '@/stores/auth'
import { useWorkspaceStore } from '@/stores/workspace'
import { CouponService } from '@/gen/minimodules/marketing/v1/marketing_service_pb'

const coupons = () => api.client(CouponService)

/** Templates per page of the list. */
export const PAGE_SIZE = 20
/** Products the pickers read at most (pages of 100). */
const PRODUCT_LIMIT = 1000

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
  }
})
