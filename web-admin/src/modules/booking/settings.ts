// What the booking pages need of the shop's booking settings: its time zone with the zone's UTC
// offset and its slot grid, as the booking service answers them (its defaults applied), so the
// dashboard keeps no table of zones or defaults of its own.
import type { BookingSettings as Wire } from '@/gen/minimodules/booking/v1/booking_service_pb'
import * as api from '@/api/clients'

export interface BookingSettings {
  timeZone: string
  /** Minutes east of UTC. */
  offset: number
  slotMinutes: number
}

/** What the pages show while the settings load: the platform's default zone and grid. */
export const LOADING: BookingSettings = { timeZone: 'Asia/Shanghai', offset: 480, slotMinutes: 30 }

/** The pages' reading of the server's settings. */
export function settingsOf(s: Wire | undefined): BookingSettings {
  if (!s) return LOADING
  return { timeZone: s.timeZone, offset: s.utcOffsetMinutes, slotMinutes: s.slotMinutes }
}

/** The settings of `tenant` ("tenants/{id}"). */
export async function loadSettings(tenant: string): Promise<BookingSettings> {
  const res = await api.booking().getBookingSettings({ name: `${tenant}/bookingSettings` })
  return settingsOf(res.bookingSettings)
}

/** Every page of a paged list, `limit` items at most. */
export async function listAll<T>(
  page: (token: string) => Promise<{ items: T[]; next: string }>,
  limit = 2000,
): Promise<T[]> {
  const out: T[] = []
  let token = ''
  do {
    const res = await page(token)
    out.push(...res.items)
    token = res.next
  } while (token && out.length < limit)
  return out
}
