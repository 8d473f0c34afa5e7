/**
 * Picking a time: a strip of the shop's local dates over the booking horizon (from the day the
 * lead time ends), the staff filter by name ("any" merges everyone's free starts into one per
 * time), the day's free starts by part of the day, and the confirm bar, which names who the chosen
 * start is with. The staff list (for the names) loads with the service; without it, the filter
 * reads "服务人员 1, 2…" and nothing else is missing. Query: `service`, `staff` (an id or "any"),
 * and for moving a booking `reschedule` (its id) and `was` (its current start).
 *
 * Booking: (reminder prompt, in the tap) → hold with one idempotency key per choice of slot and
 * coupon → for a service with a deposit, pay it (payment confirms the booking; a closed payment
 * sheet leaves the hold until it expires, payable from "my bookings"), else confirm → "my
 * bookings".
 *
 * Coupons (a service with a deposit in a shop with marketing on): a 优惠券 row lists the
 * customer's coupons a booking takes, "自动使用最优券" by default (the server takes the best), a
 * coupon picked or "不使用优惠券", with what each would take off and the deposit left to pay as
 * estimated; the hold carries the choice. When a coupon came off the held deposit, the step
 * before paying shows the deposit, the discount and what is left to pay ("应付定金 ¥20.00"), or
 * that the coupon paid it all, and then confirms instead of paying. A coupon the hold refuses
 * (COUPON_UNAVAILABLE, the place given back) is said, the coupons read again and the picker
 * opened to choose again.
 *
 * Rescheduling: one call, then back to "my bookings".
 */
import * as boot from '../../../../core/boot';
import { newIdempotencyKey } from '../../../../core/client';
import { ApiError } from '../../../../core/errors';
import { format, strings, yuan } from '../../../../core/locale/index';
import { isEnabled, pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import * as booking from '../../services/booking';
import { dayView, shortTime, staffLabels, staffNames, when, withStaff, type DayView } from '../../services/booking-view';
import {
  BEST,
  choiceKey,
  couponPicker,
  depositSummary,
  summaryText,
  type Coupon,
  type CouponChoice,
  type CouponPicker,
} from '../../services/deposit';
import { ANY_STAFF, dateRanges, dateStrip, datesWithSlots, slotsOn, staffOf, type Slot, type StripDay } from '../../services/schedule';

const B = strings.booking;
const T = strings.slots;

interface SlotView {
  start: string;
  time: string;
  staffId: string;
  remaining: string;
}

interface GroupView {
  period: string;
  text: string;
  slots: SlotView[];
}

interface ServiceView {
  name: string;
  duration: string;
  price: string;
  deposit: string;
}

/** Refusals that mean "this slot is gone": the list is reloaded. */
const SLOT_GONE = ['SLOT_FULL', 'SLOT_UNAVAILABLE'];

let cfg: booking.BookingConfig;
/** The service in the query (kept to start again after a login). */
let serviceId = '';
let service: booking.Service | undefined;
/** The shop's staff list (empty when it did not load). */
let staffList: booking.Staff[] = [];
/** The moved booking's start and staff member (query `was` and `staff`); empty when not moving one. */
let moving: { was: string; staffId: string } | undefined;
let strip: StripDay[] = [];
let ranges: { from: string; to: string }[] = [];
/** Free slots per loaded range (index into `ranges`). */
const loaded = new Map<number, Slot[]>();
/** One key per choice of slot, staff and coupon, kept across retries of that choice. */
let hold: { choice: string; key: string } | undefined;
/** Whether the deposit may take a coupon: a service with one, marketing on, not a move. */
let couponsOn = false;
/** The customer's coupons a booking takes (empty when they did not load). */
let coupons: Coupon[] = [];
let couponChoice: CouponChoice = BEST;
/** The hold's refusal of the coupon picked, in words; cleared by a new choice. */
let couponProblem = '';

type Tap = WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>;

function rangeOf(date: string): number {
  return ranges.findIndex((r) => r.from <= date && date <= r.to);
}

function allSlots(): Slot[] {
  return [...loaded.values()].flat();
}

Component({
  behaviors: [themed],
  data: {
    t: T,
    tb: B,
    loggedIn: true,
    loading: true,
    error: '',
    service: null as ServiceView | null,
    rescheduleId: '',
    rescheduleFrom: '',
    days: [] as DayView[],
    day: '',
    staffOptions: [] as { id: string; label: string }[],
    staff: ANY_STAFF,
    groups: [] as GroupView[],
    chosen: '',
    chosenStaff: '',
    chosenText: '',
    note: '',
    submitting: false,
    /** The coupon row and picker; null (nothing shown) without coupons for this deposit. */
    coupon: null as CouponPicker | null,
    picking: false,
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      if (!(await requireModule('booking'))) return;
      service = undefined;
      staffList = [];
      loaded.clear();
      hold = undefined;
      couponsOn = false;
      coupons = [];
      couponChoice = BEST;
      couponProblem = '';
      this.setData({ coupon: null, picking: false });
      const staff = query.staff || ANY_STAFF;
      moving = query.reschedule && query.was ? { was: query.was, staffId: staff } : undefined;
      this.setData({ staff, rescheduleId: query.reschedule ?? '' });
      serviceId = query.service ?? '';
      await this.start();
    },
    async start() {
      if (!(await booking.hasCustomer(this))) return;
      this.setData({ loading: true, error: '' });
      try {
        const [services, staff, settings] = await Promise.all([booking.listServices(), booking.listStaffOrNone(), booking.settings()]);
        staffList = staff;
        cfg = settings;
        this.showMoving();
        service = services.find((s) => s.id === serviceId);
        if (!service) throw new ApiError({ status: 404, code: 'NOT_FOUND' });
        this.setData({
          service: {
            name: service.name,
            duration: format(B.minutes, { n: service.duration_minutes }),
            price: yuan(service.price_fen),
            deposit: service.deposit_fen > 0 ? format(B.deposit, { amount: yuan(service.deposit_fen) }) : '',
          },
        });
        couponsOn = service.deposit_fen > 0 && !moving && isEnabled(boot.config(), 'marketing');
        // Read beside the slots; without them the row stays hidden and the server takes the best.
        const couponsLoad = couponsOn ? booking.listBookingCoupons().catch((): Coupon[] => []) : Promise.resolve([]);
        strip = dateStrip(Date.now(), cfg);
        ranges = dateRanges(strip.map((d) => d.date));
        if (ranges.length) await this.loadRange(0);
        coupons = await couponsLoad;
        this.renderCoupon();
        // Open on the first day with a free start for this staff choice.
        const free = datesWithSlots(allSlots(), this.data.staff, Date.now(), cfg);
        this.setData({ loading: false, day: strip.find((d) => free.has(d.date))?.date ?? strip[0]?.date ?? '' });
        this.render();
      } catch (e) {
        this.setData({ loading: false, error: booking.describeError(e) });
      }
    },
    /** "原预约时间：11月25日 周三 10:00 · 王师傅" when moving a booking (the name once the list is in). */
    showMoving() {
      const from = moving && withStaff(when(moving.was, cfg.offset), staffNames(staffList).get(moving.staffId));
      this.setData({ rescheduleFrom: from ? format(T.rescheduleFrom, { when: from }) : '' });
    },
    async loadRange(i: number) {
      const r = ranges[i];
      if (!r || !service) return;
      const res = await booking.listSlots(service.id, r.from, r.to);
      // The server names the zone its times are in; the strip and the labels follow it.
      cfg = booking.inZone(cfg, res);
      loaded.set(i, res.slots);
    },
    render() {
      const now = Date.now();
      const slots = allSlots();
      const staff = this.data.staff;
      const free = datesWithSlots(slots, staff, now, cfg);
      const ids = staffOf(slots, now, cfg).map((s) => s.staffId);
      const labels = staffLabels(ids, staffList);
      const groups = slotsOn(slots, this.data.day, staff, now, cfg).map((g) => ({
        period: g.period,
        text: T.periods[g.period] ?? g.period,
        slots: g.slots.map((s) => ({
          start: s.start,
          time: s.time,
          staffId: s.staffId,
          remaining: s.remaining > 1 ? format(T.remaining, { n: s.remaining }) : '',
        })),
      }));
      const chosen = groups.flatMap((g) => g.slots).find((s) => s.start === this.data.chosen);
      this.setData({
        days: strip.map((d) => dayView(d, loaded.has(rangeOf(d.date)) && !free.has(d.date))),
        // "Any" and a staff filter only when there is someone to choose between.
        staffOptions: labels.length > 1 ? [{ id: ANY_STAFF, label: B.anyStaff }, ...labels.map(({ id, label }) => ({ id, label }))] : [],
        groups,
        chosen: chosen?.start ?? '',
        chosenStaff: chosen?.staffId ?? '',
        // With "any", the customer sees whom the start books.
        chosenText: chosen ? withStaff(when(chosen.start, cfg.offset), staffNames(staffList).get(chosen.staffId)) : '',
      });
    },
    async onDay(e: WechatMiniprogram.BaseEvent<Record<string, never>, { date: string }>) {
      const date = e.currentTarget.dataset.date;
      this.setData({ day: date, chosen: '' });
      const i = rangeOf(date);
      if (i >= 0 && !loaded.has(i)) {
        this.setData({ loading: true });
        try {
          await this.loadRange(i);
          this.setData({ loading: false, error: '' });
        } catch (err) {
          this.setData({ loading: false, error: booking.describeError(err) });
        }
      }
      this.render();
    },
    onStaff(e: WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>) {
      this.setData({ staff: e.currentTarget.dataset.id });
      this.render();
    },
    onSlot(e: WechatMiniprogram.BaseEvent<Record<string, never>, { start: string }>) {
      this.setData({ chosen: e.currentTarget.dataset.start });
      this.render();
    },
    onNote(e: WechatMiniprogram.Input) {
      this.setData({ note: e.detail.value });
    },
    renderCoupon() {
      const picker = couponsOn && service ? couponPicker(coupons, service.deposit_fen, couponChoice, couponProblem) : undefined;
      this.setData({ coupon: picker?.shown ? picker : null });
    },
    onCouponRow() {
      if (this.data.coupon && !this.data.submitting) this.setData({ picking: true });
    },
    onClosePicker() {
      this.setData({ picking: false });
    },
    /** A new coupon choice: the hold's body changes, so does its key (the choice is in it). */
    chooseCoupon(next: CouponChoice) {
      couponChoice = next;
      couponProblem = '';
      this.setData({ picking: false });
      this.renderCoupon();
    },
    onCouponBest() {
      this.chooseCoupon(BEST);
    },
    onCouponOption(e: Tap) {
      const option = this.data.coupon?.options.find((o) => o.id === e.currentTarget.dataset.id);
      if (!option) return;
      if (!option.usable) return void wx.showToast({ title: option.problem, icon: 'none' });
      this.chooseCoupon({ kind: 'coupon', id: option.id });
    },
    onNoCoupon() {
      this.chooseCoupon({ kind: 'none' });
    },
    /** The confirm button's tap: WeChat shows the reminder prompt only from here, before any await. */
    onConfirm() {
      const d = this.data;
      if (d.submitting || !d.chosen || !service) return;
      if (d.rescheduleId) {
        void this.move();
        return;
      }
      // The coupon picked was refused: the hold would be again; choose another first.
      if (d.coupon?.problem) {
        this.setData({ picking: true });
        return void wx.showToast({ title: d.coupon.problem, icon: 'none' });
      }
      const reminder = booking.askReminder(cfg.reminderTemplateId);
      void this.book(reminder);
    },
    async book(reminder: Promise<boolean>) {
      const d = this.data;
      if (!service) return;
      this.setData({ submitting: true });
      const remind = await reminder;
      const coupon = couponsOn ? couponChoice : BEST;
      const choice = `${d.chosen}|${d.chosenStaff}|${choiceKey(coupon)}`;
      if (hold?.choice !== choice) hold = { choice, key: newIdempotencyKey() };
      let r: booking.Reservation;
      try {
        r = await booking.hold({
          serviceId: service.id,
          staffId: d.chosenStaff,
          start: d.chosen,
          note: d.note.trim(),
          remind,
          idempotencyKey: hold.key,
          coupon,
        });
      } catch (e) {
        await this.refused(e);
        return;
      }
      // The place is held: whatever happens next, it shows in "my bookings".
      hold = undefined;
      try {
        // A coupon came off the deposit: what is left to pay (or that nothing is) before going on.
        const summary = depositSummary(r);
        const pay = r.deposit_fen > 0;
        const go = summary ? await booking.ask(summaryText(summary), pay ? B.payNow : B.confirmNow, B.later) : true;
        if (!go) {
          await booking.alert(format(pay ? T.payCancelled : T.confirmLater, { time: shortTime(r.expire_time, Date.now(), cfg.offset) }));
        } else if (pay) {
          const paid = await booking.payDepositFlow(r.id);
          if (paid.outcome === 'paid') wx.showToast({ title: T.paid, icon: 'success' });
          else
            await booking.alert(
              format(T.payCancelled, { time: shortTime(paid.reservation.expire_time ?? r.expire_time, Date.now(), cfg.offset) }),
            );
        } else {
          await booking.confirm(r.id);
          wx.showToast({ title: T.booked, icon: 'success' });
        }
      } catch (e) {
        await booking.alertError(e);
      }
      this.setData({ submitting: false });
      wx.redirectTo({ url: pageUrl('booking', 'pages/bookings/index') });
    },
    async move() {
      const d = this.data;
      this.setData({ submitting: true });
      try {
        await booking.reschedule(d.rescheduleId, d.chosen, d.chosenStaff);
      } catch (e) {
        await this.refused(e);
        return;
      }
      this.setData({ submitting: false });
      wx.showToast({ title: T.rescheduled, icon: 'success' });
      // Back to "my bookings", which reloads on show; a deep link has nothing to go back to.
      wx.navigateBack({ fail: () => wx.redirectTo({ url: pageUrl('booking', 'pages/bookings/index') }) });
    },
    /**
     * Says why the server refused; a slot that is gone is dropped and the day reloaded; a coupon
     * refused is said and the picker opened on the coupons read again.
     */
    async refused(e: unknown) {
      this.setData({ submitting: false });
      if (e instanceof ApiError && e.code === 'COUPON_UNAVAILABLE') {
        hold = undefined;
        couponProblem = booking.describeError(e);
        coupons = await booking.listBookingCoupons().catch(() => coupons);
        this.renderCoupon();
        await booking.alert(couponProblem);
        this.setData({ picking: true });
        return;
      }
      if (e instanceof ApiError && SLOT_GONE.includes(e.code)) {
        hold = undefined;
        const i = rangeOf(this.data.day);
        this.setData({ chosen: '' });
        try {
          if (i >= 0) await this.loadRange(i);
        } catch {
          // The list stays as it was; the message below says what happened.
        }
        this.render();
      }
      await booking.alertError(e);
    },
    onLogin() {
      return booking.logIn(this, () => this.start());
    },
  },
});
