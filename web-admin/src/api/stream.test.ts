import { describe, expect, it } from 'vitest'
import { Code, ConnectError } from '@connectrpc/connect'
import { keepWatching, type StreamState } from './stream'

describe('keepWatching', () => {
  it('delivers messages and reopens after a failure with growing back-off', async () => {
    const got: number[] = []
    const waits: number[] = []
    const states: StreamState[] = []
    let attempt = 0
    let stop = () => {}
    const w = keepWatching(
      async function* () {
        attempt++
        if (attempt <= 2) throw new ConnectError('down', Code.Unavailable)
        yield 1
        yield 2
        stop()
      },
      (m) => got.push(m),
      { minDelayMs: 100, sleep: async (ms) => void waits.push(ms), onState: (s) => states.push(s) },
    )
    stop = w.stop
    await w.done
    expect(got).toEqual([1, 2])
    expect(waits).toEqual([100, 200])
    expect(states.filter((s) => s === 'retrying')).toHaveLength(2)
    expect(states.at(-1)).toBe('stopped')
  })

  it('gives up on errors a retry cannot fix', async () => {
    let attempts = 0
    const states: StreamState[] = []
    const w = keepWatching(
      // eslint-disable-next-line require-yield
      async function* () {
        attempts++
        throw new ConnectError('no', Code.PermissionDenied)
      },
      () => {},
      { sleep: async () => {}, onState: (s) => states.push(s) },
    )
    await w.done
    expect(attempts).toBe(1)
    expect(states).toEqual(['connecting', 'stopped'])
  })

  it('is live as soon as the server answers, before any message', async () => {
    const states: StreamState[] = []
    let stop = () => {}
    const w = keepWatching(
      // eslint-disable-next-line require-yield
      async function* (_signal, opened) {
        opened()
        expect(states.at(-1)).toBe('live')
        stop()
      },
      () => {},
      { sleep: async () => {}, onState: (s) => states.push(s) },
    )
    stop = w.stop
    await w.done
    expect(states).toEqual(['connecting', 'live', 'stopped'])
  })

  it('reopens a stream the server ended', async () => {
    let attempts = 0
    let stop = () => {}
    const w = keepWatching(
      async function* () {
        attempts++
        yield attempts
        if (attempts === 3) stop()
      },
      () => {},
      { sleep: async () => {} },
    )
    stop = w.stop
    await w.done
    expect(attempts).toBe(3)
  })
})
