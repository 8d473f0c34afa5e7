/**
 * The booking module's BFF calls (services, staff, free slots, hold, confirm, my bookings, cancel,
 * reschedule, deposit), the shop's booking settings, the deposit's WeChat Pay sheet and the
 * reminder subscription; with marketing on, the customer's coupons for the deposit (read from
 * marketing's route: a subpackage cannot load another's code).
 */
import type { components } from '../../../core/api/schema';
import { api } from '../../../core/api';
import * as auth from '../../../core/auth';
import { ApiError, describe } from '../../../core/errors';
import { format, strings } from '../../../core/locale/index';
import { payThenRefresh } from '../../../services/pay';
import { BEST, bookingCoupons, couponFields, refusalText, type Coupon, type CouponChoice } from './deposit';
import type { Policy } from './schedule';

export type Service = components['schemas']['ServiceDto'];
/** A staff member or room: `kind` "person" or "room"; `service_ids` empty when it performs every service. */
export type Staff = components['schemas']['StaffDto'];
export type Slots = components['schemas']['SlotsDto'];
export type Settings = components['schemas']['SettingsDto'];

export type Reservation = components['schemas']['ReservationDto'];
/** "none" | "unpaid" (paying confirms the booking) | "paid" | "refunding" | "refunded". */
export type DepositStatus = Reservation['deposit_status'];
/** A deposit's payment: the booking (still held) and the parameters for `wx.requestPayment`. */
export type DepositPayment = components['schemas']['DepositPayDto'];

/**
 * The shop's booking settings as the pages use them. The server sends them with its defaults
 * applied and the zone's UTC offset, so the mini-program keeps no table of zones or defaults.
 */
export interface BookingConfig extends Policy {
  slotMinutes: number;
  timeZone: string;
  /** The subscription message template for reminders; empty: reminders are off. */
  reminderTemplateId: string;
}

export function configOf(s: Settings): BookingConfig {
  return {
    slotMinutes: s.slot_minutes,
    leadTimeMinutes: s.lead_time_minutes,
    horizonDays: Math.max(1, s.horizon_days),
    cancelWindowHours: s.cancel_window_hours,
    rescheduleWindowHours: s.reschedule_window_hours,
    timeZone: s.time_zone,
    offset: s.utc_offset_minutes,
    reminderTemplateId: s.reminder_template_id.trim(),
  };
}

/** The shop's booking settings, read from the server each time a booking page opens. */
export async function settings(): Promise<BookingConfig> {
  const s: Settings = await api.get('/api/v1/booking/settings');
  return configOf(s);
}

/** The config read in the zone the server answered a slot list in (should the shop have moved zone meanwhile). */
export function inZone(cfg: BookingConfig, res: Pick<Slots, 'time_zone' | 'utc_offset_minutes'>): BookingConfig {
  return res.time_zone && res.time_zone !== cfg.timeZone ? { ...cfg, timeZone: res.time_zone, offset: res.utc_offset_minutes } : cfg;
}

export function listServices(): Promise<Service[]> {
  return api.get('/api/v1/booking/services');
}

/** The shop's active staff members and rooms, for their names (slots and bookings carry ids only). */
export function listStaff(): Promise<Staff[]> {
  return api.get('/api/v1/booking/staff');
}

/**
 * The staff for labels, loaded beside the page's other calls: never fails, since a page shows
 * "服务人员" for anyone it cannot name rather than nothing at all.
 */
export function listStaffOrNone(): Promise<Staff[]> {
  return listStaff().catch(() => []);
}

/** Free starts of a service between two local dates (inclusive, at most 30 days apart), every staff member. */
export function listSlots(serviceId: string, from: string, to: string): Promise<Slots> {
  return api.get('/api/v1/booking/services/{id}/slots', { path: { id: serviceId }, query: { from, to } });
}

/**
 * Holds a place. `idempotencyKey` stays the same for every attempt at this choice of slot and
 * coupon, so a retry or a second tap returns the first hold instead of taking a second place.
 * `coupon` (for a deposit; the best one by default) is sent only when the customer chose.
 */
export function hold(input: {
  serviceId: string;
  staffId: string;
  start: string;
  note: string;
  remind: boolean;
  idempotencyKey: string;
  coupon?: CouponChoice;
}): Promise<Reservation> {
  return api.post('/api/v1/booking/reservations', {
    body: {
      service_id: input.serviceId,
      staff_id: input.staffId,
      start_time: input.start,
      note: input.note,
      remind: input.remind,
      ...couponFields(input.coupon ?? BEST),
    },
    idempotencyKey: input.idempotencyKey,
  });
}

/** At most this many pages of coupons (100 each) are read. */
const MAX_COUPON_PAGES = 10;

/**
 * The customer's coupons a booking's deposit can take now (marketing's route, available ones
 * only, then those for booking: no module or "booking", no product scope). Only for a shop with
 * marketing on.
 */
export async function listBookingCoupons(now: number = Date.now()): Promise<Coupon[]> {
  const out: Coupon[] = [];
  let token: string | undefined;
  for (let i = 0; i < MAX_COUPON_PAGES; i++) {
    const page = await api.get('/api/v1/marketing/coupons', { query: { state: 'available', page_size: 100, page_token: token ?? null } });
    out.push(...page.coupons);
    token = page.next_page_token ?? undefined;
    if (!token) break;
  }
  return bookingCoupons(out, now);
}

/** Confirms a hold of a service without a deposit. */
export function confirm(id: string): Promise<Reservation> {
  return api.post('/api/v1/booking/reservations/{id}/confirm', { path: { id } });
}

export function cancel(id: string): Promise<Reservation> {
  return api.post('/api/v1/booking/reservations/{id}/cancel', { path: { id } });
}

/** Moves a booking; `staffId` only when it changes hands. */
export function reschedule(id: string, start: string, staffId?: string): Promise<Reservation> {
  return api.post('/api/v1/booking/reservations/{id}/reschedule', {
    path: { id },
    body: { start_time: start, staff_id: staffId ?? null },
  });
}

/** At most this many pages of bookings (100 each) are read. */
const MAX_PAGES = 10;

/**
 * Every booking of the customer. The route lists by start time, oldest first, with no filter, so
 * the upcoming ones come last: all pages are read (a customer has a few dozen at most).
 */
export async function listAllReservations(): Promise<Reservation[]> {
  const out: Reservation[] = [];
  let token: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await api.get('/api/v1/booking/reservations', { query: { page_size: 100, page_token: token ?? null } });
    out.push(...page.reservations);
    token = page.next_page_token ?? undefined;
    if (!token) break;
  }
  return out;
}

/** Starts paying a held booking's deposit: WeChat Pay's parameters for the sheet. */
export function payDeposit(id: string): Promise<DepositPayment> {
  return api.post('/api/v1/booking/reservations/{id}/deposit', { path: { id } });
}

/** Asks the server to check with WeChat Pay (its notification may come later than the phone). */
export function refreshDeposit(id: string): Promise<Reservation> {
  return api.post('/api/v1/booking/reservations/{id}/deposit/refresh', { path: { id } });
}

/**
 * Pays a held booking's deposit: the payment sheet, then the server's check. Paying confirms the
 * booking (no confirm call). 'cancelled' when the customer closed the sheet: the hold stays
 * until it expires. Rejects when the sheet could not open or the server refused.
 */
export async function payDepositFlow(id: string): Promise<{ reservation: Reservation; outcome: 'paid' | 'cancelled' }> {
  const r = await payDeposit(id);
  const paid = await payThenRefresh(r.wechat_pay, r.reservation, () => refreshDeposit(id));
  return { reservation: paid.result, outcome: paid.outcome };
}

/**
 * Asks to send the reminder (a one-off subscription message). WeChat only shows the prompt when
 * this runs inside a tap handler, so call it first thing there, before any await. True only when
 * the customer accepted this template; any refusal or failure is false and never stops a booking.
 */
export function askReminder(templateId: string): Promise<boolean> {
  if (!templateId || typeof wx.requestSubscribeMessage !== 'function') return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      wx.requestSubscribeMessage({
        tmplIds: [templateId],
        success: (res) => resolve(res[templateId] === 'accept'),
        fail: () => resolve(false),
      });
    } catch {
      resolve(false);
    }
  });
}

/** The text for a failed booking call: booking's own reasons first (with the window's hours). */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    // The coupon picked for the deposit: why, to choose again.
    if (e.code === 'COUPON_UNAVAILABLE') return refusalText(e.metadata.problem);
    const text = strings.booking.errors[e.code];
    const hours = e.metadata.hours;
    // Without the hours in the answer, the shared wording stands.
    if (text && (hours || !text.includes('{hours}'))) return format(text, { hours: hours ?? '' });
  }
  return describe(e);
}

/** Shows a message the customer must read (a refusal, a held place) and waits for the tap. */
export function alert(content: string): Promise<void> {
  return new Promise((resolve) => {
    wx.showModal({ content, showCancel: false, success: () => resolve(), fail: () => resolve() });
  });
}

/** Asks the customer to go on (`confirmText`) or not (`cancelText`); true for going on. */
export function ask(content: string, confirmText: string, cancelText: string): Promise<boolean> {
  return new Promise((resolve) => {
    wx.showModal({ content, confirmText, cancelText, success: (r) => resolve(!!r.confirm), fail: () => resolve(false) });
  });
}

/** Shows why a booking call failed. */
export function alertError(e: unknown): Promise<void> {
  return alert(describeError(e));
}

/** A page that shows a login prompt while no customer is logged in (`loggedIn` in its data). */
interface LoginPage {
  setData(data: { loggedIn: boolean }): void;
}

/** True when a customer is logged in, silently logging in when possible; says so on the page. */
export async function hasCustomer(page: LoginPage): Promise<boolean> {
  const user = await auth.ensureSession().catch(() => undefined);
  page.setData({ loggedIn: !!user });
  return !!user;
}

/** The login prompt's button: logs in, then `then` (the page's reload). */
export async function logIn(page: LoginPage, then: () => Promise<void>): Promise<void> {
  try {
    await auth.login();
    page.setData({ loggedIn: true });
    await then();
  } catch (e) {
    wx.showToast({ title: describeError(e), icon: 'none' });
  }
}
