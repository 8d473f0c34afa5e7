/**
 * Typed access to wx storage. Keys carry the appid, so one WeChat account that opens several
 * merchants' copies of a template never mixes their boot configs or tokens.
 */
import { env } from './env';

export function scopedKey(name: string): string {
  return `mm:${env().appid}:${name}`;
}

export function load<T>(name: string): T | undefined {
  try {
    const v: unknown = wx.getStorageSync(scopedKey(name));
    return v === '' || v === undefined || v === null ? undefined : (v as T);
  } catch {
    return undefined;
  }
}

export function save<T>(name: string, value: T): void {
  try {
    wx.setStorageSync(scopedKey(name), value);
  } catch {
    // Storage full or unavailable: the app still works, it only starts slower next time.
  }
}

export function remove(name: string): void {
  try {
    wx.removeStorageSync(scopedKey(name));
  } catch {
    // nothing to do
  }
}
