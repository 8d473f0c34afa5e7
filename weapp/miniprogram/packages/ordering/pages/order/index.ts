/**
 * One order: status, lines, amounts, fulfilment; pay an unpaid order, cancel one that can be.
 * Reloads on show and pull-down, and polls while the order is still moving.
 */
import * as boot from '../../../../core/boot';
import { describe } from '../../../../core/errors';
import { strings } from '../../../../core/locale/index';
import { requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import { orderView, type OrderView } from '../../services/order-view';
import * as ordering from '../../services/ordering';

/** While an order is still moving, look again this often. */
const POLL_MS = 15_000;
const timers = new WeakMap<object, number>();

function stopPolling(page: object): void {
  const t = timers.get(page);
  if (t !== undefined) clearTimeout(t);
  timers.delete(page);
}

Component({
  behaviors: [themed],
  data: {
    t: strings.order,
    id: '',
    order: null as OrderView | null,
    error: '',
    busy: false,
    payments: [] as { id: string; text: string }[],
  },
  lifetimes: {
    detached() {
      stopPolling(this);
    },
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      if (!(await requireModule('ordering'))) return;
      const cfg = ordering.orderingConfig(boot.config());
      this.setData({
        id: query.id ?? '',
        payments: cfg.paymentMethods.map((id) => ({ id, text: strings.cart.payments[id] ?? id })),
      });
      await this.load();
    },
    onShow() {
      if (this.data.order) void this.load();
    },
    async load() {
      stopPolling(this);
      try {
        const o = await ordering.getOrder(this.data.id);
        this.setData({ order: orderView(o), error: '' });
        if (!ordering.FINAL_STATUSES.includes(o.status)) {
          timers.set(this, setTimeout(() => void this.load(), POLL_MS) as unknown as number);
        }
      } catch (e) {
        this.setData({ error: describe(e) });
      }
    },
    async onPay(e: WechatMiniprogram.BaseEvent<Record<string, never>, { method: string }>) {
      if (this.data.busy) return;
      this.setData({ busy: true });
      try {
        const r = await ordering.payOrder(this.data.id, e.currentTarget.dataset.method);
        this.setData({ order: orderView(r.order) });
        if (r.outcome === 'paid') wx.showToast({ title: strings.checkout.paid, icon: 'success' });
        await this.load();
      } catch (err) {
        wx.showToast({ title: describe(err), icon: 'none' });
      } finally {
        this.setData({ busy: false });
      }
    },
    onCancel() {
      wx.showModal({
        content: strings.order.cancelConfirm,
        success: async (r) => {
          if (!r.confirm) return;
          this.setData({ busy: true });
          try {
            this.setData({ order: orderView(await ordering.cancelOrder(this.data.id)) });
            wx.showToast({ title: strings.order.cancelled, icon: 'none' });
          } catch (err) {
            wx.showToast({ title: describe(err), icon: 'none' });
          } finally {
            this.setData({ busy: false });
          }
        },
      });
    },
    async onPullDownRefresh() {
      await this.load();
      wx.stopPullDownRefresh();
    },
  },
});
