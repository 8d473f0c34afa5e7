/**
 * Home: the shop's logo, name and announcement, and an entry for every enabled module
 * (core/modules.ts `homeEntries`), rebuilt whenever the boot config changes.
 */
import * as boot from '../../../../core/boot';
import { strings } from '../../../../core/locale/index';
import { homeEntries, pageUrl, type Entry } from '../../../../core/modules';
import { themed } from '../../../../core/page';

const unsubscribers = new WeakMap<object, () => void>();

interface ShopInfo {
  announcement: string;
  contactPhone: string;
  address: string;
}

function shopInfo(config: boot.BootConfig | undefined): ShopInfo {
  const c = (config?.modules.find((m) => m.id === 'tenant')?.config ?? {}) as Record<string, unknown>;
  const text = (k: string) => (typeof c[k] === 'string' ? (c[k] as string) : '');
  return { announcement: text('announcement'), contactPhone: text('contact_phone'), address: text('address') };
}

Component({
  behaviors: [themed],
  data: {
    t: strings.home,
    self: pageUrl('tenant', 'pages/home/index'),
    entries: [] as Entry[],
    shop: { announcement: '', contactPhone: '', address: '' } as ShopInfo,
  },
  lifetimes: {
    attached() {
      unsubscribers.set(
        this,
        boot.onConfigChange((c) => this.show(c)),
      );
    },
    detached() {
      unsubscribers.get(this)?.();
    },
  },
  methods: {
    onLoad() {
      this.show(boot.config());
      boot.ready().then(
        (c) => this.show(c),
        () => undefined,
      );
    },
    show(config: boot.BootConfig | undefined) {
      this.setData({ entries: homeEntries(config), shop: shopInfo(config) });
    },
    onEntry(e: WechatMiniprogram.BaseEvent<Record<string, never>, { url: string }>) {
      wx.navigateTo({ url: e.currentTarget.dataset.url });
    },
    onCall() {
      const phone = this.data.shop.contactPhone;
      if (phone) wx.makePhoneCall({ phoneNumber: phone, fail: () => undefined });
    },
    async onPullDownRefresh() {
      await boot.refresh(true);
      wx.stopPullDownRefresh();
    },
  },
});
