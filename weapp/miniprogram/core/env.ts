/**
 * The environment the mini-program runs in: which tenant it is (by appid), where the BFF is, and
 * whether the development login stands in for wx.login.
 *
 * Tenant resolution: a platform serving many merchants uploads one template through a third-party
 * platform and gives each merchant's copy an ext.json (`wx.getExtConfigSync()`); its `appid`
 * names the merchant's mini-program and wins. Otherwise the app is its own tenant: the appid from
 * `wx.getAccountInfoSync()`. The BFF maps the appid to the tenant; the client never names a
 * tenant id itself.
 */
import { API_BASE } from '../config';

export type EnvVersion = 'develop' | 'trial' | 'release';

export interface AppEnv {
  /** The appid the BFF resolves the tenant from. */
  appid: string;
  /** Where the appid came from. */
  appidSource: 'ext' | 'account';
  /** BFF origin, no trailing slash. */
  apiBase: string;
  envVersion: EnvVersion;
  /** Log in with POST /api/v1/auth/dev-login (a dev-mode server only) instead of wx.login. */
  devLogin: boolean;
}

/** What ext.json's `ext` object may carry. */
interface ExtConfig {
  appid?: unknown;
  apiBase?: unknown;
  devLogin?: unknown;
}

const APPID = /^wx[0-9a-zA-Z]{6,30}$/;

function extConfig(): ExtConfig {
  // Not every base library has it, and it cannot be detected with canIUse (WeChat's docs).
  try {
    return typeof wx.getExtConfigSync === 'function' ? (wx.getExtConfigSync() as ExtConfig) : {};
  } catch {
    return {};
  }
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Resolves the environment from ext.json and the account; pure given `wx`. */
export function resolveEnv(): AppEnv {
  const ext = extConfig();
  const account = wx.getAccountInfoSync().miniProgram;
  const envVersion: EnvVersion = account.envVersion ?? 'release';
  const extAppid = typeof ext.appid === 'string' && APPID.test(ext.appid) ? ext.appid : undefined;
  // Plain http only while developing: a trial or release build never talks to the BFF unencrypted,
  // whatever an ext.json left in the tree says.
  const allowed = envVersion === 'develop' ? /^https?:\/\// : /^https:\/\//;
  const apiBase = typeof ext.apiBase === 'string' && allowed.test(ext.apiBase) ? ext.apiBase : API_BASE[envVersion];
  return {
    appid: extAppid ?? account.appId,
    appidSource: extAppid ? 'ext' : 'account',
    apiBase: stripSlash(apiBase),
    envVersion,
    // Never in a release build, whatever ext.json says: the server refuses it outside dev mode
    // anyway, and a release must not even try.
    devLogin: envVersion !== 'release' && ext.devLogin === true,
  };
}

let current: AppEnv | undefined;

/** The environment, resolved once per app start. */
export function env(): AppEnv {
  current ??= resolveEnv();
  return current;
}

/** Tests only: forget the resolved environment. */
export function resetEnv(): void {
  current = undefined;
}
