/**
 * How booking reads on screen: dates and times in the shop's time zone, the date strip's labels,
 * staff names, and a booking's status, deposit (with what a coupon took off it), deadline and the
 * actions the shop's windows still allow. Pure.
 */
import { format, strings, yuan } from '../../../core/locale/index';
import type { BookingConfig, Reservation, Staff } from './booking';
import { depositSummary, type DiscountLine } from './deposit';
import { allowed, instant, isLiveHold, localTime, type StripDay } from './schedule';

const B = strings.booking;
const T = strings.bookings;

/** "11月25日 周三 10:00" in the shop's zone; empty for a missing or bad time. */
export function when(rfc3339: string | null | undefined, offset: number): string {
  const ms = instant(rfc3339);
  if (Number.isNaN(ms)) return '';
  const l = localTime(ms, offset);
  const [, m, d] = l.date.split('-');
  return format(B.when, { month: Number(m), day: Number(d), weekday: B.weekdays[l.weekday - 1] ?? '', time: l.time });
}

/** "10:00", or "11月26日 周四 10:00" when not on the same local day as `now`. */
export function shortTime(rfc3339: string | null | undefined, now: number, offset: number): string {
  const ms = instant(rfc3339);
  if (Number.isNaN(ms)) return '';
  return localTime(ms, offset).date === localTime(now, offset).date ? localTime(ms, offset).time : when(rfc3339, offset);
}

export interface DayView extends StripDay {
  /** "今天", "明天" or "周三". */
  label: string;
  /** No free slot that day (known once its range is loaded). */
  full: boolean;
}

export function dayView(d: StripDay, full: boolean): DayView {
  const label = d.offsetDays === 0 ? strings.slots.today : d.offsetDays === 1 ? strings.slots.tomorrow : (B.weekdays[d.weekday - 1] ?? '');
  return { ...d, label, full };
}

/** A staff member or room as a picker shows it. */
export interface StaffLabel {
  id: string;
  label: string;
  room: boolean;
}

/**
 * Labels for the staff ids seen in the slots: their names from the staff list, in its order; ids
 * the list does not name (made inactive since, or the list did not load) after them, in id order,
 * as "服务人员" — numbered when there are several, so the choices stay apart.
 */
export function staffLabels(ids: readonly string[], staff: readonly Staff[]): StaffLabel[] {
  const wanted = new Set(ids);
  const known = staff.filter((s) => wanted.has(s.id) && s.name.trim());
  const named = new Set(known.map((s) => s.id));
  const unknown = [...wanted].filter((id) => !named.has(id)).sort();
  return [
    ...known.map((s) => ({ id: s.id, label: s.name.trim(), room: s.kind === 'room' })),
    ...unknown.map((id, i) => ({ id, label: unknown.length > 1 ? format(B.staff, { n: i + 1 }) : B.staffUnknown, room: false })),
  ];
}

/** The staff sheet's title: rooms read as rooms. */
export function chooseTitle(labels: readonly StaffLabel[]): string {
  const rooms = labels.filter((l) => l.room).length;
  const S = strings.services;
  return rooms === 0 ? S.chooseStaff : rooms === labels.length ? S.chooseRoom : S.chooseStaffOrRoom;
}

/** The names of the staff list by id, for text that mentions one (empty: say nothing). */
export function staffNames(staff: readonly Staff[]): Map<string, string> {
  return new Map(staff.filter((s) => s.name.trim()).map((s) => [s.id, s.name.trim()]));
}

/** "11月25日 周三 10:00 · 王师傅", or the text alone without a name. */
export function withStaff(text: string, name: string | undefined): string {
  return name ? `${text} · ${name}` : text;
}

export interface BookingView {
  id: string;
  serviceId: string;
  staffId: string;
  start: string;
  service: string;
  /** Who performs it (a name from the staff list); empty when the list does not name them. */
  staff: string;
  when: string;
  status: string;
  statusText: string;
  price: string;
  /**
   * "定金 ¥20.00 · 已支付"; empty without a deposit. With a coupon on it: the deposit before it,
   * "定金 ¥30.00", and the lines below say the rest.
   */
  deposit: string;
  /** What was taken off the deposit: "优惠券 定金立减10元" "-¥10.00". */
  depositLines: DiscountLine[];
  /** With a discount, what is left to pay: "应付定金 ¥20.00 · 未支付"; empty otherwise. */
  depositDue: string;
  /** "优惠券已抵扣全部定金" when a coupon paid the whole deposit (confirmed without paying). */
  depositCovered: string;
  note: string;
  /** The hold's deadline to pay or confirm. */
  deadline: string;
  canPay: boolean;
  canConfirm: boolean;
  canCancel: boolean;
  canReschedule: boolean;
  /** Why cancel or reschedule is gone from an upcoming booking (the shop's window). */
  windowHint: string;
  /** The cancel question: mentions the refund when a paid deposit would come back. */
  cancelQuestion: string;
}

/** Names by id, for the bookings' text. */
export interface Names {
  services: ReadonlyMap<string, string>;
  staff: ReadonlyMap<string, string>;
}

export function bookingView(r: Reservation, names: Names, now: number, cfg: BookingConfig): BookingView {
  const deposit = r.deposit_status;
  const live = isLiveHold(r, now);
  const unpaid = live && r.deposit_fen > 0 && deposit === 'unpaid';
  const can = allowed(r, now, cfg);
  const upcoming = (r.status === 'confirmed' || live) && instant(r.start_time) > now;
  const hints: string[] = [];
  if (upcoming && !can.cancel) hints.push(format(T.noCancel, { hours: cfg.cancelWindowHours }));
  if (upcoming && !can.reschedule) hints.push(format(T.noReschedule, { hours: cfg.rescheduleWindowHours }));
  if (hints.length) hints.push(T.contactShop);
  const status = T.depositStatus[deposit] ? ` · ${T.depositStatus[deposit]}` : '';
  const discounted = depositSummary(r);
  const depositText = discounted
    ? discounted.original
    : r.deposit_fen > 0
      ? `${format(B.deposit, { amount: yuan(r.deposit_fen) })}${status}`
      : '';
  // A hold runs out unless paid (with a deposit) or confirmed (without); a paid one only waits.
  const byWhen = { time: shortTime(r.expire_time, now, cfg.offset) };
  const deadline = unpaid ? format(T.payBy, byWhen) : live && r.deposit_fen === 0 ? format(T.confirmBy, byWhen) : '';
  return {
    id: r.id,
    serviceId: r.service_id,
    staffId: r.staff_id,
    start: r.start_time,
    service: names.services.get(r.service_id) ?? B.serviceGone,
    staff: names.staff.get(r.staff_id) ?? '',
    when: when(r.start_time, cfg.offset),
    status: r.status,
    statusText: unpaid ? T.heldUnpaid : r.status === 'held' && !live ? (T.status.expired ?? r.status) : (T.status[r.status] ?? r.status),
    price: yuan(r.price_fen),
    deposit: depositText,
    depositLines: discounted?.lines ?? [],
    depositDue: discounted?.due ? `${discounted.due}${status}` : '',
    depositCovered: discounted?.covered ?? '',
    note: r.note,
    deadline,
    canPay: unpaid,
    // A hold without a deposit whose confirm did not get through (closed app, network).
    canConfirm: live && r.deposit_fen === 0,
    canCancel: can.cancel,
    canReschedule: can.reschedule,
    windowHint: hints.join('，'),
    cancelQuestion: discounted
      ? deposit === 'paid'
        ? T.cancelConfirmRefundCoupon
        : T.cancelConfirmCoupon
      : deposit === 'paid'
        ? T.cancelConfirmRefund
        : T.cancelConfirm,
  };
}
