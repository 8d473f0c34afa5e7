/**
 * The member card (会员卡): the customer's level ("普通会员" below the first), points, the level's
 * discount and perks, the way to the next level, how points are earned, how many coupons they
 * hold (a link to my coupons) and the points history a page at a time. Reloads on show: an order
 * paid or refunded since changes the points.
 */
import * as boot from '../../../../core/boot';
import { format, strings } from '../../../../core/locale/index';
import { pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import { tabOf } from '../../services/coupon-view';
import * as marketing from '../../services/marketing';
import { cardView, historyView, type CardView, type EntryView } from '../../services/member-view';

const T = strings.memberCard;

/** The history entries shown; the views are made from them. */
const shown = new WeakMap<object, marketing.PointsEntry[]>();

/** "3 张": the coupons under 可用 in my coupons; empty when they could not be read. */
async function couponCount(): Promise<string> {
  try {
    const now = Date.now();
    const all = await marketing.listAllCoupons();
    return format(T.couponCount, { n: all.filter((c) => tabOf(c, now) === 'available').length });
  } catch {
    return '';
  }
}

Component({
  behaviors: [themed],
  data: {
    t: T,
    loggedIn: true,
    loaded: false,
    loading: false,
    error: '',
    card: null as CardView | null,
    coupons: '',
    entries: [] as EntryView[],
    nextToken: '',
  },
  methods: {
    async onLoad() {
      if (!(await requireModule('marketing'))) return;
      await this.reload();
    },
    onShow() {
      if (this.data.loaded) void this.reload();
    },
    /** Shows `list` as the history. */
    show(list: marketing.PointsEntry[], nextToken: string) {
      shown.set(this, list);
      this.setData({ entries: historyView(list), nextToken });
    },
    async reload() {
      if (!(await marketing.hasCustomer(this))) return;
      this.setData({ loading: true, error: '' });
      try {
        const [member, points, coupons] = await Promise.all([marketing.getMember(), marketing.listPoints(), couponCount()]);
        this.setData({ card: cardView(member, marketing.marketingConfig(boot.config())), coupons });
        this.show(points.entries, points.next_page_token ?? '');
        this.setData({ loaded: true, loading: false });
      } catch (e) {
        this.setData({ loading: false, error: marketing.describeError(e) });
      }
    },
    async onMore() {
      const token = this.data.nextToken;
      if (!token || this.data.loading) return;
      this.setData({ loading: true });
      try {
        const page = await marketing.listPoints(token);
        this.show([...(shown.get(this) ?? []), ...page.entries], page.next_page_token ?? '');
      } catch (e) {
        wx.showToast({ title: marketing.describeError(e), icon: 'none' });
      } finally {
        this.setData({ loading: false });
      }
    },
    onReachBottom() {
      return this.onMore();
    },
    onCoupons() {
      wx.navigateTo({ url: pageUrl('marketing', 'pages/mine/index') });
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
