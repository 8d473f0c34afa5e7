/**
 * What every page shares, as a behaviour: the theme's CSS variables in `themeStyle` (bound on the
 * page root: `<view class="mm-page" style="{{themeStyle}}">`), the navigation bar in the tenant's
 * colours with the module page's title, and an `offline` flag while the config in use could not
 * be revalidated. All follow boot config changes while the page is open.
 */
import * as boot from './boot';
import { parseRoute } from './modules';
import { strings } from './locale/index';
import { applyChrome, normalise, themeStyle } from './theme';

const unsubscribers = new WeakMap<object, () => void>();

/** The title the tenant's config gives the page at `route`, if it is a module page. */
export function pageTitle(config: boot.BootConfig | undefined, route: string): string | undefined {
  const r = parseRoute(route);
  if (!r || !config) return undefined;
  const m = config.modules.find((x) => x.id === r.module);
  return m?.pages.find((p) => p.path === r.page)?.title['zh-CN'];
}

function routeOf(instance: object): string {
  const i = instance as { route?: string; is?: string };
  return i.route ?? i.is ?? '';
}

function render(instance: WechatMiniprogram.Component.TrivialInstance, config: boot.BootConfig | undefined): void {
  instance.setData({
    themeStyle: themeStyle(config?.theme),
    shopName: config?.display_name ?? '',
    logoUrl: normalise(config?.theme).logo_url,
    offline: boot.isStale(),
  });
}

export const themed = Behavior({
  data: {
    themeStyle: themeStyle(undefined),
    shopName: '',
    logoUrl: '',
    offline: false,
    offlineText: strings.app.offline,
  },
  lifetimes: {
    attached(this: WechatMiniprogram.Component.TrivialInstance) {
      render(this, boot.config());
      const off = boot.onConfigChange((c) => {
        render(this, c);
        applyChrome(c, pageTitle(c, routeOf(this)));
      });
      unsubscribers.set(this, off);
      boot.start().then(
        (c) => render(this, c),
        () => undefined,
      );
    },
    // The page is the current one once rendered; `pageLifetimes.show` covers coming back to it.
    ready(this: WechatMiniprogram.Component.TrivialInstance) {
      const c = boot.config();
      applyChrome(c, pageTitle(c, routeOf(this)));
    },
    detached(this: WechatMiniprogram.Component.TrivialInstance) {
      unsubscribers.get(this)?.();
      unsubscribers.delete(this);
    },
  },
  pageLifetimes: {
    show(this: WechatMiniprogram.Component.TrivialInstance) {
      const c = boot.config();
      applyChrome(c, pageTitle(c, routeOf(this)));
    },
  },
});
