/** The customer's orders, newest first, a page at a time; tapping one opens it. A tab page. */
import * as auth from '../../../../core/auth';
import { describe } from '../../../../core/errors';
import { format, strings } from '../../../../core/locale/index';
import { pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import { orderView } from '../../services/order-view';
import * as ordering from '../../services/ordering';

interface Row {
  id: string;
  number: string;
  statusText: string;
  summary: string;
  total: string;
  created: string;
}

function row(o: ordering.Order): Row {
  const v = orderView(o);
  const names = v.lines.map((l) => l.name).join('、');
  return {
    id: v.id,
    number: v.number,
    statusText: v.statusText,
    summary: `${names} ${format(strings.orders.items, { count: v.count })}`,
    total: v.total,
    created: v.created,
  };
}

let nextToken: string | undefined;

Component({
  behaviors: [themed],
  data: {
    t: strings.orders,
    self: pageUrl('ordering', 'pages/orders/index'),
    loggedIn: false,
    loading: false,
    error: '',
    rows: [] as Row[],
    more: false,
  },
  methods: {
    async onLoad() {
      if (!(await requireModule('ordering'))) return;
      await this.reload();
    },
    onShow() {
      if (this.data.rows.length) void this.reload();
    },
    async reload() {
      nextToken = undefined;
      const user = await auth.ensureSession().catch(() => undefined);
      this.setData({ loggedIn: !!user });
      if (!user) return;
      await this.page(true);
    },
    async page(first: boolean) {
      if (this.data.loading) return;
      this.setData({ loading: true, error: '' });
      try {
        const p = await ordering.listOrders(first ? undefined : nextToken);
        nextToken = p.next_page_token ?? undefined;
        const rows = p.orders.map(row);
        this.setData({ rows: first ? rows : [...this.data.rows, ...rows], more: !!nextToken, loading: false });
      } catch (e) {
        this.setData({ loading: false, error: describe(e) });
      }
    },
    async onLogin() {
      try {
        await auth.login();
        await this.reload();
      } catch (e) {
        wx.showToast({ title: describe(e), icon: 'none' });
      }
    },
    onReachBottom() {
      if (this.data.more) void this.page(false);
    },
    onMore() {
      if (this.data.more) void this.page(false);
    },
    onOrder(e: WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>) {
      wx.navigateTo({ url: `${pageUrl('ordering', 'pages/order/index')}?id=${encodeURIComponent(e.currentTarget.dataset.id)}` });
    },
    async onPullDownRefresh() {
      await this.reload();
      wx.stopPullDownRefresh();
    },
  },
});
