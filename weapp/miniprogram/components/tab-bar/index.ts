/**
 * The custom tab bar, built from the boot config's tab entries of the modules that are on and
 * shipped (core/modules.ts). Not WeChat's native tabBar: its pages must be in the main package
 * and its list is fixed at upload, while ours are per-tenant and live in module subpackages.
 * Tab pages include it with their own URL: `<mm-tab-bar current="/packages/x/pages/y/index"/>`.
 */
import * as boot from '../../core/boot';
import { openTab, visibleTabs, type Entry } from '../../core/modules';

interface TabView extends Entry {
  active: boolean;
}

const unsubscribers = new WeakMap<object, () => void>();

function tabsFor(current: string): TabView[] {
  return visibleTabs(boot.config()).map((t) => ({ ...t, active: t.url === current }));
}

Component({
  properties: {
    current: { type: String, value: '' },
  },
  data: { tabs: [] as TabView[] },
  observers: {
    current(this: WechatMiniprogram.Component.TrivialInstance, current: string) {
      this.setData({ tabs: tabsFor(current) });
    },
  },
  lifetimes: {
    attached() {
      this.setData({ tabs: tabsFor(this.data.current) });
      unsubscribers.set(
        this,
        boot.onConfigChange(() => this.setData({ tabs: tabsFor(this.data.current) })),
      );
    },
    detached() {
      unsubscribers.get(this)?.();
      unsubscribers.delete(this);
    },
  },
  pageLifetimes: {
    show() {
      // A tab page at the bottom of the stack that is not the app's first page gets WeChat's
      // 返回首页 button (from 7.0.7, hidden in onShow); the tab bar is the way home.
      wx.hideHomeButton?.({});
    },
  },
  methods: {
    onTap(e: WechatMiniprogram.BaseEvent<Record<string, never>, { url: string }>) {
      const url = e.currentTarget.dataset.url;
      if (url && url !== this.data.current) openTab(url);
    },
  },
});
