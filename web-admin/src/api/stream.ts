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

/**
 * Opens `open(signal, opened)` and feeds every message to `onMessage` until `stop()` is called.
 * `open` calls `opened` once the server has answered (response headers), so an idle stream shows
 * as live before its first message.
 */
export function keepWatching<T>(
  open: (signal: AbortSignal, opened: () => void) => AsyncIterable<T>,
  onMessage: (m: T) => void,
  opts: WatchOptions = {},
): { stop: () => void; done: Promise<void> } {
  const { minDelayMs = 500, maxDelayMs = 10_000, onState = () => {}, sleep = defaultSleep } = opts
  const controller = new AbortController()
  const signal = controller.signal
  const done = (async () => {
    // Start after the caller has its handle, so it can stop from within the first messages.
    await Promise.resolve()
    let delay = minDelayMs
    while (!signal.aborted) {
      onState('connecting')
      try {
        let live = false
        const opened = () => {
          if (live) return
          live = true
          delay = minDelayMs
          onState('live')
        }
        for await (const m of open(signal, opened)) {
          opened()
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
