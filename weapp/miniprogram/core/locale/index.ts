/**
 * The strings in use. The platform's locales are zh-CN (default) and en; only zh-CN ships today,
 * so `strings` is it. Pages never hard-code text: they read a block of these.
 */
import { zhCN, type Strings } from './zh-CN';

export const strings: Strings = zhCN;

/** Fills `{name}` placeholders. */
export function format(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

/** Formats integer fen as yuan with two decimals: 1250 → "¥12.50". */
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(fen));
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
