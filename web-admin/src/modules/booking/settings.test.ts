// The booking settings against a fake BookingService: the zone, its UTC offset and the slot grid
// come from the server as it answers them; nothing is looked up in a table of zones here.
import { describe, expect, it } from 'vitest'
import { createRouterTransport } from '@connectrpc/connect'
import { BookingService } from '@/gen/minimodules/booking/v1/booking_service_pb'
import { setTransport } from '@/api/transport'
import { resetClients } from '@/api/clients'
import { listAll, loadSettings } from './settings'

describe('loadSettings', () => {
  it('reads the tenant’s settings from the booking service', async () => {
    const asked: string[] = []
    setTransport(
      createRouterTransport(({ service }) => {
        service(BookingService, {
          getBookingSettings: (req) => {
            asked.push(req.name)
            // An offset no table of zones would give: the page must take the server's.
            return {
              bookingSettings: { name: req.name, timeZone: 'Asia/Seoul', utcOffsetMinutes: 545, slotMinutes: 20 },
            }
          },
        })
      }),
    )
    resetClients()
    expect(await loadSettings('tenants/t')).toEqual({ timeZone: 'Asia/Seoul', offset: 545, slotMinutes: 20 })
    expect(asked).toEqual(['tenants/t/bookingSettings'])
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
