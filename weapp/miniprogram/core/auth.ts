/**
 * The customer's session: tokens in wx storage, login with `wx.login` (or the development login),
 * silent refresh, and recovery after a 401.
 *
 * - Access tokens are refreshed a minute before they expire; concurrent callers share one refresh
 *   (refresh tokens are single use: two refreshes with one token would end the session).
 * - A failed refresh (session ended, token reused) falls back to a silent `wx.login`, which needs
 *   no tap from the customer, unless they logged out: then the app stays logged out until they
 *   log in again.
 */
import type { components } from './api/schema';
import { createClient } from './client';
import { ApiError } from './errors';
import { env } from './env';
import * as storage from './storage';

export type Me = components['schemas']['MeDto'];
type Tokens = components['schemas']['TokensDto'];

interface Stored {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken: string;
  refreshExpiresAt: number;
  user: Me;
}

const KEY = 'session';
const LOGGED_OUT_KEY = 'logged-out';
const DEV_OPENID_KEY = 'dev-openid';
/** Refresh this long before the access token expires. */
const SKEW_MS = 60_000;

const publicApi = createClient({ baseUrl: () => env().apiBase, appid: () => env().appid });

type Listener = (user: Me | undefined) => void;
const listeners = new Set<Listener>();
let inflight: Promise<string | undefined> | undefined;

function now(): number {
  return Date.now();
}

function read(): Stored | undefined {
  return storage.load<Stored>(KEY);
}

function store(tokens: Tokens, user: Me): Stored {
  const t = now();
  const s: Stored = {
    accessToken: tokens.access_token,
    accessExpiresAt: t + tokens.access_expires_in * 1000,
    refreshToken: tokens.refresh_token,
    refreshExpiresAt: t + tokens.refresh_expires_in * 1000,
    user,
  };
  storage.save(KEY, s);
  return s;
}

function notify(user: Me | undefined): void {
  for (const l of listeners) l(user);
}

/** Calls `fn` whenever the customer logs in, out, or changes; returns an unsubscribe. */
export function onUserChange(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The logged-in customer, from storage; undefined when logged out. */
export function currentUser(): Me | undefined {
  const s = read();
  return s && s.refreshExpiresAt > now() ? s.user : undefined;
}

/** Whether the customer chose to log out (no silent login then). */
export function loggedOutByChoice(): boolean {
  return storage.load<boolean>(LOGGED_OUT_KEY) === true;
}

function wxLoginCode(): Promise<string> {
  return new Promise((resolve, reject) => {
    wx.login({
      success: (r) => (r.code ? resolve(r.code) : reject(new ApiError({ status: 0, code: 'INVALID_WECHAT_CODE' }))),
      fail: (e) => reject(new ApiError({ status: 0, code: 'NETWORK', detail: e.errMsg })),
    });
  });
}

function devOpenid(): string {
  let id = storage.load<string>(DEV_OPENID_KEY);
  if (!id) {
    id = `dev-${Math.random().toString(36).slice(2, 12)}`;
    storage.save(DEV_OPENID_KEY, id);
  }
  return id;
}

/** Logs in: wx.login → BFF (or the development login where env allows). */
export async function login(): Promise<Me> {
  const r = env().devLogin
    ? await publicApi.post('/api/v1/auth/dev-login', { body: { openid: devOpenid() } })
    : await publicApi.post('/api/v1/auth/wechat-login', { body: { code: await wxLoginCode() } });
  storage.remove(LOGGED_OUT_KEY);
  store(r.tokens, r.user);
  notify(r.user);
  return r.user;
}

/** Logs in unless a session exists; never after the customer logged out by choice. */
export async function ensureSession(): Promise<Me | undefined> {
  const user = currentUser();
  if (user) return user;
  if (loggedOutByChoice()) return undefined;
  return login();
}

async function refreshNow(): Promise<string | undefined> {
  const s = read();
  if (s && s.refreshExpiresAt > now()) {
    try {
      const t = await publicApi.post('/api/v1/auth/refresh', { body: { refresh_token: s.refreshToken } });
      return store(t, s.user).accessToken;
    } catch (e) {
      // Only a refused token ends the session; a network failure keeps it for the next try.
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
    }
  }
  clearSession();
  if (loggedOutByChoice()) return undefined;
  await login();
  return read()?.accessToken;
}

/** One refresh at a time, shared by every caller. */
function refreshShared(): Promise<string | undefined> {
  inflight ??= refreshNow().finally(() => {
    inflight = undefined;
  });
  return inflight;
}

/** A usable access token, refreshing first when it is about to expire. */
export async function accessToken(): Promise<string | undefined> {
  if (inflight) return inflight;
  const s = read();
  if (!s) return undefined;
  if (s.accessExpiresAt - SKEW_MS > now()) return s.accessToken;
  return refreshShared();
}

/** After a 401 for `rejected`: refresh unless another call already did. */
export async function recover(rejected: string): Promise<boolean> {
  const s = read();
  if (s && s.accessToken !== rejected && s.accessExpiresAt - SKEW_MS > now()) return true;
  try {
    return (await refreshShared()) !== undefined;
  } catch {
    return false;
  }
}

/** Replaces the stored profile (after binding a phone or editing the profile). */
export function updateUser(user: Me): void {
  const s = read();
  if (!s) return;
  storage.save(KEY, { ...s, user });
  notify(user);
}

/** Forgets the tokens locally. */
export function clearSession(): void {
  storage.remove(KEY);
  notify(undefined);
}

/** Forgets the tokens and remembers that the customer chose to leave. */
export function markLoggedOut(): void {
  storage.save(LOGGED_OUT_KEY, true);
  clearSession();
}
