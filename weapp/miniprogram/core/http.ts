/**
 * wx.request as a promise, with retries for requests that are safe to repeat. Only transport
 * failures (no answer: offline, DNS, timeout) and 502/503/504 are retried; a request that got a
 * real answer is never repeated here. Callers decide what is safe to repeat: reads, and writes
 * that carry an idempotency key.
 */
import { ApiError } from './errors';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface HttpRequest {
  url: string;
  method: HttpMethod;
  header?: Record<string, string>;
  data?: unknown;
  /** Extra attempts after the first; 0 for none. */
  retries?: number;
  timeout?: number;
}

export interface HttpResponse {
  status: number;
  data: unknown;
  header: Record<string, string>;
}

/** Delay before retry `attempt` (1-based): 300 ms, 900 ms, 2.7 s… */
export function backoff(attempt: number): number {
  return 300 * 3 ** (attempt - 1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function once(req: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    wx.request({
      url: req.url,
      method: req.method,
      header: req.header ?? {},
      // wx.request's type says string | object | ArrayBuffer; our bodies are JSON objects.
      data: (req.data ?? undefined) as WechatMiniprogram.IAnyObject | undefined,
      dataType: 'json',
      timeout: req.timeout ?? 15000,
      success: (res) =>
        resolve({
          status: res.statusCode,
          data: res.data,
          header: lowerKeys(res.header as Record<string, string>),
        }),
      fail: (err) =>
        reject(
          new ApiError({
            status: 0,
            code: /timeout/i.test(err.errMsg) ? 'TIMEOUT' : 'NETWORK',
            detail: err.errMsg,
          }),
        ),
    });
  });
}

function lowerKeys(h: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k.toLowerCase()] = v;
  return out;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);

export async function http(req: HttpRequest): Promise<HttpResponse> {
  const retries = req.retries ?? 0;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await once(req);
      if (attempt < retries && RETRYABLE_STATUS.has(res.status)) {
        await sleep(backoff(attempt + 1));
        continue;
      }
      return res;
    } catch (e) {
      if (attempt >= retries) throw e;
      await sleep(backoff(attempt + 1));
    }
  }
}
