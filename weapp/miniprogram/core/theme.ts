/**
 * The tenant's theme applied everywhere: CSS variables on every page root (`themeStyle`), the
 * navigation bar and the window background (`applyChrome`), and the tab bar (which reads the same
 * variables). Colours come from the boot config, so a tenant rebrands without a release.
 *
 * Only `#RGB`/`#RRGGBB` values pass into styles: a colour is placed inside a style attribute, so
 * anything else falls back to the default rather than reaching the page.
 */
import type { BootConfig, Theme } from './boot';

export const DEFAULT_THEME: Theme = {
  primary_color: '#07C160',
  secondary_color: '#FFB400',
  background_color: '#F7F7F7',
  text_color: '#333333',
  logo_url: '',
};

const HEX = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

export function safeColor(value: string | undefined, fallback: string): string {
  return value && HEX.test(value) ? value.toUpperCase() : fallback;
}

function expand(hex: string): [number, number, number] {
  const h = hex.length === 4 ? hex.slice(1).replace(/./g, (c) => c + c) : hex.slice(1);
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
}

/** WCAG relative luminance of a #hex colour. */
export function luminance(hex: string): number {
  const [r, g, b] = expand(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * Text colour on `background`: white whenever it meets WCAG's 3:1 for large text (titles, tab
 * labels, buttons), as brand colours usually want; black otherwise. These are also the only two
 * the navigation bar accepts.
 */
export function onColor(background: string): '#ffffff' | '#000000' {
  const contrastWhite = 1.05 / (luminance(background) + 0.05);
  return contrastWhite >= 3 ? '#ffffff' : '#000000';
}

/** The theme with every colour checked. */
export function normalise(theme: Partial<Theme> | undefined): Theme {
  const t = theme ?? {};
  return {
    primary_color: safeColor(t.primary_color, DEFAULT_THEME.primary_color),
    secondary_color: safeColor(t.secondary_color, DEFAULT_THEME.secondary_color),
    background_color: safeColor(t.background_color, DEFAULT_THEME.background_color),
    text_color: safeColor(t.text_color, DEFAULT_THEME.text_color),
    logo_url: typeof t.logo_url === 'string' && /^https:\/\//.test(t.logo_url) ? t.logo_url : '',
  };
}

/** The CSS variables for a page root's style attribute. */
export function themeStyle(theme: Partial<Theme> | undefined): string {
  const t = normalise(theme);
  return [
    `--mm-primary:${t.primary_color}`,
    `--mm-on-primary:${onColor(t.primary_color)}`,
    `--mm-secondary:${t.secondary_color}`,
    `--mm-on-secondary:${onColor(t.secondary_color)}`,
    `--mm-bg:${t.background_color}`,
    `--mm-text:${t.text_color}`,
  ].join(';');
}

/** Navigation bar colours and title, and the window background, for the current page. */
export function applyChrome(config: BootConfig | undefined, title?: string): void {
  const t = normalise(config?.theme);
  wx.setNavigationBarColor({
    frontColor: onColor(t.primary_color),
    backgroundColor: t.primary_color,
    animation: { duration: 0, timingFunc: 'linear' },
    fail: () => undefined,
  });
  const text = title ?? config?.display_name;
  if (text) wx.setNavigationBarTitle({ title: text, fail: () => undefined });
  if (typeof wx.setBackgroundColor === 'function') {
    wx.setBackgroundColor({ backgroundColor: t.background_color, fail: () => undefined });
  }
}
