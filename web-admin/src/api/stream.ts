// Keeps a server-streaming call open (the orders board's live feed): reopens it with growing
// back-off when it fails or ends, stops for good on errors a retry cannot fix, and reports its
// state so a page can show "live" or "reconnecting".
import { Code, ConnectError } from '@connectrpc/connect'

export type StreamState = 'connecting' | 'live' | 'retrying' | 'stopped'

export interface WatchOptions {
  minDelayMs?: number
  maxDelayMs?: number
  onState?: (s: StreamState, err?: unknown) => void
  /** Waits between attempts; replaceable in tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>
}

/** Errors a reconnect will not fix. */
const FATAL = new Set([Code.PermissionDenied, Code.InvalidArgument, Code.NotFound, Code.Unimplemented])

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => {
      clearTimeout(t)
      resolve()
    })
  })
}

/** Opens `open(signal)` and feeds every message to `onMessage` until `stop()` is called. */
export function keepWatching<T>(
  open: (signal: AbortSignal) => AsyncIterable<T>,
  onMessage: (m: T) => void,
  opts: WatchOptions = {},
): { stop: () => void; done: Promise<void> } {
  const { minDelayMs = 500, maxDelayMs = 10_000, onState = () => {}, sleep = defaultSleep } = opts
  const controller = new AbortController()
  const signal = controller.signal
  const done = (async () => {
    let delay = minDelayMs
    while (!signal.aborted) {
      onState('connecting')
      try {
        for await (const m of open(signal)) {
          delay = minDelayMs
          onState('live')
          onMessage(m)
        }
      } catch (e) {
        if (signal.aborted) break
        if (e instanceof ConnectError && FATAL.has(e.code)) {
          onState('stopped', e)
          return
        }
        onState('retrying', e)
      }
      if (signal.aborted) break
      await sleep(delay, signal)
      delay = Math.min(delay * 2, maxDelayMs)
    }
    onState('stopped')
  })()
  return { stop: () => controller.abort(), done }
}
