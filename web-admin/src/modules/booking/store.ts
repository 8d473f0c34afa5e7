// The booking module's shared state for its pages: the shop's settings (time zone, slot grid),
// its services and its bookable resources. Both pages read them; the services page changes them
// and reloads.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { Reservation, Service, Staff } from '@/gen/minimodules/booking/v1/booking_pb'
import * as api from '@/api/clients'
import { useWorkspaceStore } from '@/stores/workspace'
import { LOADING, listAll, loadSettings, type BookingSettings } from './settings'

export const useBookingStore = defineStore('booking', () => {
  const ws = useWorkspaceStore()
  const settings = ref<BookingSettings>(LOADING)
  const services = ref<Service[]>([])
  const staff = ref<Staff[]>([])
  const loadedFor = ref('')

  const serviceByName = computed(() => new Map(services.value.map((s) => [s.name, s])))
  const staffByName = computed(() => new Map(staff.value.map((s) => [s.name, s])))

  async function loadServices() {
    const parent = ws.tenantName
    services.value = await listAll(async (pageToken) => {
      const res = await api.booking().listServices({ parent, pageSize: 100, pageToken })
      return { items: res.services, next: res.nextPageToken }
    })
  }

  async function loadStaff() {
    const parent = ws.tenantName
    staff.value = await listAll(async (pageToken) => {
      const res = await api.booking().listStaff({ parent, pageSize: 100, pageToken })
      return { items: res.staff, next: res.nextPageToken }
    })
  }

  /** Settings, services and resources of the current tenant. */
  async function load() {
    const tenant = ws.tenantName
    const [s] = await Promise.all([loadSettings(tenant), loadServices(), loadStaff()])
    settings.value = s
    loadedFor.value = tenant
  }

  /**
   * Who booked from the mini-program, by customer name: read from identity (its contract, not a
   * copy in booking), once per customer. A user who may not read customers sees none.
   */
  const customers = ref(new Map<string, { name: string; phone: string }>())
  async function resolveCustomers(list: readonly Reservation[]) {
    const wanted = [...new Set(list.filter((r) => r.customer && !r.contactName).map((r) => r.customer))].filter(
      (c) => !customers.value.has(c),
    )
    const found = await Promise.all(
      wanted.map(async (name) => {
        try {
          const u = (await api.users().getUser({ name })).user
          return [name, { name: u?.nickname || u?.displayName || '', phone: u?.phone ?? '' }] as const
        } catch {
          return [name, { name: '', phone: '' }] as const
        }
      }),
    )
    if (found.length) customers.value = new Map([...customers.value, ...found])
  }

  /** The resources that perform `service` (those listing no services perform all). */
  function staffFor(service: string): Staff[] {
    return staff.value.filter((s) => !s.services.length || s.services.includes(service))
  }

  return {
    settings,
    services,
    staff,
    loadedFor,
    serviceByName,
    staffByName,
    customers,
    load,
    loadServices,
    loadStaff,
    staffFor,
    resolveCustomers,
  }
})
