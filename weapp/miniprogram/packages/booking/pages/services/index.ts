/**
 * The shop's bookable services (a tab page). Tapping one asks which staff member or room, by
 * name, or "any", when more than one performs it in the coming weeks, then opens the slot picker.
 * The staff list (for the names) loads with the services; without it the sheet still works, with
 * numbered staff. Links to "my bookings", which is no tab of its own.
 */
import { format, strings, yuan } from '../../../../core/locale/index';
import { pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import * as booking from '../../services/booking';
import { chooseTitle, shortTime, staffLabels, type StaffLabel } from '../../services/booking-view';
import { ANY_STAFF, dateRanges, dateStrip, staffOf } from '../../services/schedule';

const B = strings.booking;
const T = strings.services;

interface ServiceView {
  id: string;
  name: string;
  description: string;
  duration: string;
  price: string;
  deposit: string;
}

interface StaffOption {
  id: string;
  label: string;
  hint: string;
}

function serviceView(s: booking.Service): ServiceView {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    duration: format(B.minutes, { n: s.duration_minutes }),
    price: yuan(s.price_fen),
    deposit: s.deposit_fen > 0 ? format(B.deposit, { amount: yuan(s.deposit_fen) }) : '',
  };
}

/** The shop's staff list, read with the services (empty when it did not load). */
let staffList: booking.Staff[] = [];
/** The shop's booking settings, read with the services. */
let cfg: booking.BookingConfig | undefined;

/** "Any" first, then each staff member or room by name with their earliest free start in the first weeks. */
function staffOptions(
  slots: booking.Slots['slots'],
  now: number,
  cfg: booking.BookingConfig,
): { labels: StaffLabel[]; options: StaffOption[] } {
  const free = staffOf(slots, now, cfg);
  const ids = free.map((s) => s.staffId);
  const labels = staffLabels(ids, staffList);
  const earliest = (t: string | undefined) => (t ? format(T.earliest, { time: shortTime(t, now, cfg.offset) }) : T.noSlots);
  const first = new Map(free.map((s) => [s.staffId, s.first]));
  return {
    labels,
    options: [
      { id: ANY_STAFF, label: B.anyStaff, hint: `${T.anyStaffHint} · ${earliest(free[0]?.first)}` },
      ...labels.map(({ id, label }) => ({ id, label, hint: earliest(first.get(id)) })),
    ],
  };
}

Component({
  behaviors: [themed],
  data: {
    t: T,
    tb: B,
    self: pageUrl('booking', 'pages/services/index'),
    loggedIn: false,
    loading: false,
    error: '',
    services: [] as ServiceView[],
    /** The service whose slots are being looked up. */
    opening: '',
    picking: null as { serviceId: string; name: string; title: string; options: StaffOption[] } | null,
  },
  methods: {
    async onLoad() {
      if (!(await requireModule('booking'))) return;
      await this.reload();
    },
    async reload() {
      if (!(await booking.hasCustomer(this))) return;
      this.setData({ loading: true, error: '' });
      try {
        const [list, staff, settings] = await Promise.all([booking.listServices(), booking.listStaffOrNone(), booking.settings()]);
        staffList = staff;
        cfg = settings;
        this.setData({ services: list.map(serviceView), loading: false });
      } catch (e) {
        this.setData({ loading: false, error: booking.describeError(e) });
      }
    },
    onLogin() {
      return booking.logIn(this, () => this.reload());
    },
    async onService(e: WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>) {
      const id = e.currentTarget.dataset.id;
      const service = this.data.services.find((s) => s.id === id);
      if (!service || this.data.opening) return;
      this.setData({ opening: id });
      try {
        const settings = cfg ?? (cfg = await booking.settings());
        const now = Date.now();
        const first = dateRanges(dateStrip(now, settings).map((d) => d.date))[0];
        const res = first ? await booking.listSlots(id, first.from, first.to) : undefined;
        const { labels, options } = staffOptions(res?.slots ?? [], now, res ? booking.inZone(settings, res) : settings);
        // One staff member (or none free yet): nothing to choose.
        if (labels.length <= 1) this.open(id, ANY_STAFF);
        else this.setData({ picking: { serviceId: id, name: service.name, title: chooseTitle(labels), options } });
      } catch (err) {
        await booking.alertError(err);
      } finally {
        this.setData({ opening: '' });
      }
    },
    onStaff(e: WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>) {
      const picking = this.data.picking;
      if (!picking) return;
      this.setData({ picking: null });
      this.open(picking.serviceId, e.currentTarget.dataset.id);
    },
    onClosePicker() {
      this.setData({ picking: null });
    },
    open(serviceId: string, staff: string) {
      wx.navigateTo({
        url: `${pageUrl('booking', 'pages/slots/index')}?service=${encodeURIComponent(serviceId)}&staff=${encodeURIComponent(staff)}`,
      });
    },
    onMyBookings() {
      wx.navigateTo({ url: pageUrl('booking', 'pages/bookings/index') });
    },
    async onPullDownRefresh() {
      await this.reload();
      wx.stopPullDownRefresh();
    },
  },
});
