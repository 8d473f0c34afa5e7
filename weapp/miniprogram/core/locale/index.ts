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

/** Fen as yuan without needless decimals: 10000 → "100", 950 → "9.5", 1234 → "12.34". */
export function yuanShort(fen: number): string {
  const abs = Math.abs(Math.trunc(fen));
  const whole = Math.floor(abs / 100);
  const cents = abs % 100;
  const sign = fen < 0 ? '-' : '';
  if (cents === 0) return `${sign}${whole}`;
  return `${sign}${whole}.${String(cents).padStart(2, '0').replace(/0$/, '')}`;
}

/** The 折 of a percentage off: 20 → "8", 15 → "8.5", 12 → "8.8". */
export function rate(percentOff: number): string {
  const tenths = 100 - Math.max(0, Math.min(100, Math.round(percentOff)));
  return tenths % 10 === 0 ? String(tenths / 10) : `${Math.floor(tenths / 10)}.${tenths % 10}`;
}
