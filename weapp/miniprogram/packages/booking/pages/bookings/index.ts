/**
 * The customer's bookings: upcoming (soonest first) and past (latest first), each with its service
 * and, when the staff list names them, who performs it. An upcoming booking
 * offers what the shop's windows still allow — pay the deposit of a hold, confirm a hold, cancel,
 * move to another slot — and says why cancel or move is gone inside a window; the server decides
 * in the end, and its refusal is shown as it gives it. A deposit a coupon came off shows the
 * deposit, the discount lines and what is left to pay ("应付定金 ¥20.00"), or "优惠券已抵扣全部定金"
 * with the confirm action instead of paying. Reloads on show (back from a move).
 */
import { strings } from '../../../../core/locale/index';
import { pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import * as booking from '../../services/booking';
import { bookingView, staffNames, type BookingView } from '../../services/booking-view';
import { split } from '../../services/schedule';

const T = strings.bookings;

type Tap = WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>;

Component({
  behaviors: [themed],
  data: {
    t: T,
    tb: strings.booking,
    loggedIn: true,
    loaded: false,
    loading: false,
    error: '',
    tab: 'upcoming' as 'upcoming' | 'past',
    upcoming: [] as BookingView[],
    past: [] as BookingView[],
    busy: false,
  },
  methods: {
    async onLoad() {
      if (!(await requireModule('booking'))) return;
      await this.reload();
    },
    onShow() {
      if (this.data.loaded) void this.reload();
    },
    async reload() {
      if (!(await booking.hasCustomer(this))) return;
      this.setData({ loading: true, error: '' });
      try {
        const [services, staff, list, cfg] = await Promise.all([
          booking.listServices().catch(() => []),
          booking.listStaffOrNone(),
          booking.listAllReservations(),
          booking.settings(),
        ]);
        const names = { services: new Map(services.map((s) => [s.id, s.name])), staff: staffNames(staff) };
        const now = Date.now();
        const { upcoming, past } = split(list, now);
        this.setData({
          loaded: true,
          loading: false,
          upcoming: upcoming.map((r) => bookingView(r, names, now, cfg)),
          past: past.map((r) => bookingView(r, names, now, cfg)),
        });
      } catch (e) {
        this.setData({ loading: false, error: booking.describeError(e) });
      }
    },
    onTab(e: WechatMiniprogram.BaseEvent<Record<string, never>, { tab: 'upcoming' | 'past' }>) {
      this.setData({ tab: e.currentTarget.dataset.tab });
    },
    find(id: string): BookingView | undefined {
      return this.data.upcoming.find((b) => b.id === id);
    },
    /** Runs one action on a booking; a refusal is shown, and the list reloads either way. */
    async act(run: () => Promise<void>) {
      if (this.data.busy) return;
      this.setData({ busy: true });
      try {
        await run();
      } catch (e) {
        await booking.alertError(e);
      } finally {
        this.setData({ busy: false });
      }
      await this.reload();
    },
    onPay(e: Tap) {
      const id = e.currentTarget.dataset.id;
      void this.act(async () => {
        const r = await booking.payDepositFlow(id);
        if (r.outcome === 'paid') wx.showToast({ title: strings.slots.paid, icon: 'success' });
      });
    },
    onConfirmBooking(e: Tap) {
      const id = e.currentTarget.dataset.id;
      void this.act(async () => {
        await booking.confirm(id);
        wx.showToast({ title: T.confirmed, icon: 'success' });
      });
    },
    onCancel(e: Tap) {
      const b = this.find(e.currentTarget.dataset.id);
      if (!b || this.data.busy) return;
      wx.showModal({
        content: b.cancelQuestion,
        success: (r) => {
          if (!r.confirm) return;
          void this.act(async () => {
            await booking.cancel(b.id);
            wx.showToast({ title: T.cancelled, icon: 'none' });
          });
        },
      });
    },
    onReschedule(e: Tap) {
      const b = this.find(e.currentTarget.dataset.id);
      if (!b) return;
      const q = [
        `service=${encodeURIComponent(b.serviceId)}`,
        `staff=${encodeURIComponent(b.staffId)}`,
        `reschedule=${encodeURIComponent(b.id)}`,
        `was=${encodeURIComponent(b.start)}`,
      ];
      wx.navigateTo({ url: `${pageUrl('booking', 'pages/slots/index')}?${q.join('&')}` });
    },
    onBook() {
      wx.reLaunch({ url: pageUrl('booking', 'pages/services/index') });
    },
    onLogin() {
      return booking.logIn(this, () => this.reload());
    },
    async onPullDownRefresh() {
      await this.reload();
      wx.stopPullDownRefresh();
    },
  },
});
