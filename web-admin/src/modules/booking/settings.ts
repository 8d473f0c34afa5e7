// What the booking pages need of the shop's booking config (its time zone and slot grid) and of
// the contract's paged lists. The config is the tenant module's: read whole with
// tenant.config.read, else the public part every mini-program boots with (both keys are public),
// else the module's defaults, so a cashier without config access still sees the right hours.
import * as api from '@/api/clients'
import { DEFAULT_ZONE, zoneOffset } from './time'

export interface BookingSettings {
  timeZone: string
  /** Minutes east of UTC. */
  offset: number
  slotMinutes: number
}

/** The settings in a booking config object (the module's defaults for what it lacks). */
export function settingsOf(config: { [k: string]: unknown } | undefined): BookingSettings {
  const zone = typeof config?.time_zone === 'string' && config.time_zone ? config.time_zone : DEFAULT_ZONE
  const slot = Number(config?.slot_minutes)
  return {
    timeZone: zone,
    offset: zoneOffset(zone),
    slotMinutes: Number.isInteger(slot) && slot >= 5 ? slot : 30,
  }
}

/** The shop's booking settings; `appid` (when known) opens the public config as a fallback. */
export async function loadSettings(tenant: string, appid?: string): Promise<BookingSettings> {
  try {
    const res = await api.tenants().getModuleConfig({ name: `${tenant}/modules/booking/config` })
    return settingsOf(res.config?.config)
  } catch {
    // No tenant.config.read: the public part below has the same keys.
  }
  if (appid) {
    try {
      const res = await api.tenants().getAppConfig({ wechatAppid: appid })
      return settingsOf(res.appConfig?.modules.find((m) => m.id === 'booking')?.publicConfig)
    } catch {
      // Fall through to the defaults.
    }
  }
  return settingsOf(undefined)
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
