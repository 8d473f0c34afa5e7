/**
 * Which modules this app can show, and where. A module shows when the app ships its subpackage
 * (`SHIPPED`, generated from `miniprogram/packages/*` by `npm run modules:sync`) AND the tenant
 * has it enabled (the boot config). Everything the customer can tap — home entries, tab bar — is
 * built from that intersection; a page of a module that is off sends the customer to the "not
 * available" page instead of half-working.
 */
import type { BootConfig, Tab } from './boot';
import * as boot from './boot';
import { SHIPPED, type ShippedModule } from './shipped';

export const UNAVAILABLE_PAGE = '/pages/unavailable/index';
/** The core module that owns home and the user centre; always on. */
export const CORE_MODULE = 'tenant';

export interface Entry {
  module: string;
  url: string;
  text: string;
  icon: string;
}

export function isShipped(module: string): module is ShippedModule {
  return Object.prototype.hasOwnProperty.call(SHIPPED, module);
}

export function shipsPage(module: string, page: string): boolean {
  return isShipped(module) && (SHIPPED[module] as readonly string[]).includes(page);
}

/** `/packages/<module>/<page>`: where a module's page lives in the app. */
export function pageUrl(module: string, page: string): string {
  return `/packages/${module}/${page}`;
}

/** The module and page of a route such as `packages/ordering/pages/menu/index`. */
export function parseRoute(route: string): { module: string; page: string } | undefined {
  const m = /^\/?packages\/([a-z0-9-]+)\/(.+)$/.exec(route);
  return m ? { module: m[1]!, page: m[2]! } : undefined;
}

export function isEnabled(config: BootConfig | undefined, module: string): boolean {
  if (!isShipped(module)) return false;
  if (module === CORE_MODULE) return true;
  return !!config?.modules.some((m) => m.id === module);
}

/** Tab bar entries: the boot config's tabs whose module is on and whose page ships. */
export function visibleTabs(config: BootConfig | undefined): Entry[] {
  const tabs: Tab[] = config?.tabs ?? [];
  return tabs
    .filter((t) => isEnabled(config, t.module) && shipsPage(t.module, t.page))
    .map((t) => ({ module: t.module, url: pageUrl(t.module, t.page), text: t.text['zh-CN'], icon: t.icon }));
}

/**
 * Home entries: every enabled module but the core one, by its tab entries, or by its first page
 * when it has no tab.
 */
export function homeEntries(config: BootConfig | undefined): Entry[] {
  if (!config) return [];
  const tabs = visibleTabs(config);
  const out: Entry[] = [];
  for (const m of config.modules) {
    if (m.id === CORE_MODULE || !isEnabled(config, m.id)) continue;
    const own = tabs.filter((t) => t.module === m.id);
    if (own.length) {
      out.push(...own);
      continue;
    }
    const first = m.pages.find((p) => shipsPage(m.id, p.path));
    if (first) out.push({ module: m.id, url: pageUrl(m.id, first.path), text: first.title['zh-CN'], icon: m.id });
  }
  return out;
}

/** Where the app opens: the first tab, or the core home page. */
export function homeUrl(config: BootConfig | undefined): string {
  return visibleTabs(config)[0]?.url ?? pageUrl(CORE_MODULE, 'pages/home/index');
}

export function unavailableUrl(module: string): string {
  return `${UNAVAILABLE_PAGE}?module=${encodeURIComponent(module)}`;
}

/**
 * Guard for a module's page: true when the module is on. Otherwise revalidates the config once
 * (it may have been switched on since it was stored) and, if still off, replaces the page with
 * the "not available" page and returns false.
 */
export async function requireModule(module: string): Promise<boolean> {
  let config: BootConfig | undefined;
  try {
    config = await boot.ready();
  } catch {
    config = boot.config();
  }
  if (isEnabled(config, module)) return true;
  const fresh = await boot.refresh(true);
  if (isEnabled(fresh, module)) return true;
  wx.redirectTo({ url: unavailableUrl(module) });
  return false;
}

/** Home as a fresh start: from a dead end (a module that is off), nothing below is worth keeping. */
export function goHome(config: Parameters<typeof homeUrl>[0]): void {
  wx.reLaunch({ url: homeUrl(config) });
}

/** WeChat's page stack holds ten pages; a tab switch never needs more than the tabs there are. */
const MAX_STACK = 10;

/**
 * Switches tab. Tab pages live in subpackages, where WeChat's switchTab cannot go, so a tab the
 * customer has open already is gone back to (its state as they left it: scroll, search, picks)
 * and a new one is opened over the current one, which stays alive below. Relaunching is the last
 * resort, for a full stack.
 */
export function openTab(url: string): void {
  const pages = typeof getCurrentPages === 'function' ? getCurrentPages() : [];
  const route = url.replace(/^\//, '').split('?')[0];
  const at = pages.findIndex((p) => p.route === route);
  if (at >= 0) wx.navigateBack({ delta: pages.length - 1 - at });
  else if (pages.length < MAX_STACK) wx.navigateTo({ url });
  else wx.reLaunch({ url });
}
