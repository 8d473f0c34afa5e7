/**
 * The boot config: who the tenant is, its theme, its enabled modules and tab bar. Loaded from
 * `GET /api/v1/app/config` (the tenant comes from the appid header), kept in wx storage so the
 * app starts offline and at once, and revalidated with the ETag the BFF sends (an unchanged config
 * costs a 304). Listeners hear about every new config, so a theme or module change shows without
 * a new release and without a restart.
 */
import type { components } from './api/schema';
import { api } from './api';
import * as storage from './storage';

export type BootConfig = components['schemas']['AppConfigDto'];
export type Theme = components['schemas']['ThemeDto'];
export type Tab = components['schemas']['TabDto'];
export type ModuleInfo = components['schemas']['ModuleDto'];

interface Cached {
  config: BootConfig;
  etag: string;
  fetchedAt: number;
}

const KEY = 'boot';
/** At most one revalidation per this many ms (app shows come often). */
export const REFRESH_INTERVAL_MS = 60_000;

type Listener = (config: BootConfig) => void;
const listeners = new Set<Listener>();

let current: Cached | undefined;
let readyPromise: Promise<BootConfig> | undefined;
let refreshing: Promise<BootConfig | undefined> | undefined;
/** True while the config in use is a stored one whose last revalidation failed (offline). */
let stale = false;

/** The config in memory, if any. */
export function config(): BootConfig | undefined {
  return current?.config;
}

/** Whether the config in use is a stored one that could not be revalidated (offline). */
export function isStale(): boolean {
  return stale;
}

function notify(): void {
  if (current) for (const l of listeners) l(current.config);
}

function setStale(next: boolean): void {
  if (stale === next) return;
  stale = next;
  notify();
}

export function onConfigChange(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function set(next: Cached): void {
  const changed = !current || current.etag !== next.etag || current.config.version !== next.config.version;
  current = next;
  storage.save(KEY, next);
  if (changed) notify();
}

async function fetchConfig(): Promise<BootConfig> {
  const header: Record<string, string> = {};
  if (current?.etag) header['If-None-Match'] = current.etag;
  const res = await api.getRaw('/api/v1/app/config', { header });
  if (res.status === 304 && current) {
    current = { ...current, fetchedAt: Date.now() };
    storage.save(KEY, current);
    setStale(false);
    return current.config;
  }
  const config = res.data as BootConfig;
  stale = false;
  set({ config, etag: res.header['etag'] ?? '', fetchedAt: Date.now() });
  return config;
}

/**
 * Starts loading: with a stored config, resolves with it at once and revalidates in the
 * background; without one, waits for the network. Idempotent.
 */
export function start(): Promise<BootConfig> {
  if (readyPromise) return readyPromise;
  const cached = storage.load<Cached>(KEY);
  if (cached?.config) {
    current = cached;
    readyPromise = Promise.resolve(cached.config);
    void refresh(true);
  } else {
    readyPromise = fetchConfig();
    // A failed first load must not stick: the next start() tries again.
    readyPromise.catch(() => {
      readyPromise = undefined;
    });
  }
  return readyPromise;
}

/** The latest config, waiting for the first load when needed (not the first load's answer: the
 * config may have changed since). */
export async function ready(): Promise<BootConfig> {
  const first = await start();
  return current?.config ?? first;
}

/**
 * Revalidates the config (on app show, pull-down, or a deep link into a module the stored config
 * says is off). Failures keep the config in use. Throttled unless `force`.
 */
export function refresh(force = false): Promise<BootConfig | undefined> {
  if (refreshing) return refreshing;
  if (!force && current && Date.now() - current.fetchedAt < REFRESH_INTERVAL_MS) {
    return Promise.resolve(current.config);
  }
  refreshing = fetchConfig()
    .catch(() => {
      // Keep what we have; say so only when it is a stored copy we could not confirm.
      if (current) setStale(true);
      return current?.config;
    })
    .finally(() => {
      refreshing = undefined;
    });
  return refreshing;
}

/** Tests only. */
export function resetBoot(): void {
  current = undefined;
  readyPromise = undefined;
  refreshing = undefined;
  stale = false;
  listeners.clear();
}
