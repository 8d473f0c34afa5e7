// The booking settings against a fake TenantService: the whole config when the user may read it,
// the public part otherwise, the module's defaults when neither answers.
import { describe, expect, it } from 'vitest'
import type { JsonObject } from '@bufbuild/protobuf'
import { Code, ConnectError, createRouterTransport } from '@connectrpc/connect'
import { TenantService } from '@/gen/minimodules/tenant/v1/tenant_service_pb'
import { setTransport } from '@/api/transport'
import { resetClients } from '@/api/clients'
import { listAll, loadSettings, settingsOf } from './settings'

function fake(opts: { config?: JsonObject; publicConfig?: JsonObject }) {
  const asked: string[] = []
  setTransport(
    createRouterTransport(({ service }) => {
      service(TenantService, {
        getModuleConfig: (req) => {
          asked.push(`config ${req.name}`)
          if (!opts.config) throw new ConnectError('no', Code.PermissionDenied)
          return { config: { name: req.name, config: opts.config } }
        },
        getAppConfig: (req) => {
          asked.push(`app ${req.wechatAppid}`)
          if (!opts.publicConfig) throw new ConnectError('no', Code.NotFound)
          return { appConfig: { modules: [{ id: 'booking', publicConfig: opts.publicConfig }] } }
        },
      })
    }),
  )
  resetClients()
  return asked
}

describe('settingsOf', () => {
  it('reads the zone and slot, with the module defaults for what is missing or wrong', () => {
    expect(settingsOf({ time_zone: 'Asia/Tokyo', slot_minutes: 15 })).toEqual({
      timeZone: 'Asia/Tokyo',
      offset: 540,
      slotMinutes: 15,
    })
    expect(settingsOf(undefined)).toEqual({ timeZone: 'Asia/Shanghai', offset: 480, slotMinutes: 30 })
    expect(settingsOf({ slot_minutes: 'x', time_zone: 3 })).toEqual({
      timeZone: 'Asia/Shanghai',
      offset: 480,
      slotMinutes: 30,
    })
  })
})

describe('loadSettings', () => {
  it('reads the tenant module config', async () => {
    const asked = fake({ config: { time_zone: 'Asia/Seoul', slot_minutes: 20 } })
    expect(await loadSettings('tenants/t', 'wx1')).toMatchObject({ timeZone: 'Asia/Seoul', slotMinutes: 20 })
    expect(asked).toEqual(['config tenants/t/modules/booking/config'])
  })

  it('falls back to the public config when the config is not readable', async () => {
    const asked = fake({ publicConfig: { time_zone: 'Asia/Tokyo', slot_minutes: 60 } })
    expect(await loadSettings('tenants/t', 'wx1')).toMatchObject({ offset: 540, slotMinutes: 60 })
    expect(asked).toEqual(['config tenants/t/modules/booking/config', 'app wx1'])
  })

  it('falls back to the defaults when nothing answers', async () => {
    fake({})
    expect(await loadSettings('tenants/t', 'wx1')).toEqual(settingsOf(undefined))
    fake({})
    expect(await loadSettings('tenants/t')).toEqual(settingsOf(undefined))
  })
})

describe('listAll', () => {
  it('follows page tokens to the end', async () => {
    const pages: Record<string, { items: number[]; next: string }> = {
      '': { items: [1, 2], next: 'p2' },
      p2: { items: [3], next: 'p3' },
      p3: { items: [4], next: '' },
    }
    const seen: string[] = []
    const all = await listAll(async (token) => {
      seen.push(token)
      return pages[token] ?? { items: [], next: '' }
    })
    expect(all).toEqual([1, 2, 3, 4])
    expect(seen).toEqual(['', 'p2', 'p3'])
  })

  it('stops at the limit', async () => {
    let calls = 0
    const all = await listAll(async () => {
      calls++
      return { items: [calls, calls], next: 'more' }
    }, 5)
    expect(all).toHaveLength(6)
    expect(calls).toBe(3)
  })
})
