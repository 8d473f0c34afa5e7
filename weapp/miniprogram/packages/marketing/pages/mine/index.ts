/**
 * My coupons (我的优惠券), in three tabs: 可用 (usable ones first, the soonest to end first, then
 * those an unpaid order holds or that start later), 已使用 and 已过期. Each shows its terms and
 * dates; a usable one at ordering's checkout links to the menu (the checkout picks the best
 * coupon by itself). Reloads on show: a coupon comes back when its order is cancelled.
 */
import * as boot from '../../../../core/boot';
import { strings } from '../../../../core/locale/index';
import { isEnabled, openTab, pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import { byTab, type CouponView, type Tab } from '../../services/coupon-view';
import * as marketing from '../../services/marketing';

const T = strings.myCoupons;
const TABS: Tab[] = ['available', 'used', 'expired'];

Component({
  behaviors: [themed],
  data: {
    t: T,
    tc: strings.coupon,
    tabs: TABS.map((id) => ({ id, text: T.tabs[id] ?? id })),
    tab: 'available' as Tab,
    loggedIn: true,
    loaded: false,
    loading: false,
    error: '',
    coupons: { available: [], used: [], expired: [] } as Record<Tab, CouponView[]>,
    /** Ordering is on: a usable coupon offers "去使用". */
    canOrder: false,
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      if (!(await requireModule('marketing'))) return;
      const tab = TABS.find((x) => x === query.tab);
      if (tab) this.setData({ tab });
      await this.reload();
    },
    onShow() {
      if (this.data.loaded) void this.reload();
    },
    async reload() {
      if (!(await marketing.hasCustomer(this))) return;
      this.setData({ loading: true, error: '', canOrder: isEnabled(boot.config(), 'ordering') });
      try {
        const all = await marketing.listAllCoupons();
        this.setData({ coupons: byTab(all, Date.now()), loaded: true, loading: false });
      } catch (e) {
        this.setData({ loading: false, error: marketing.describeError(e) });
      }
    },
    onTab(e: WechatMiniprogram.BaseEvent<Record<string, never>, { tab: Tab }>) {
      this.setData({ tab: e.currentTarget.dataset.tab });
    },
    onUse() {
      openTab(pageUrl('ordering', 'pages/menu/index'));
    },
    onCentre() {
      wx.navigateTo({ url: pageUrl('marketing', 'pages/coupons/index') });
    },
    onLogin() {
      return marketing.logIn(this, () => this.reload());
    },
    async onPullDownRefresh() {
      await this.reload();
      wx.stopPullDownRefresh();
    },
  },
});
