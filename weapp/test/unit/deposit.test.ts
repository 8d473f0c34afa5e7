// Coupons on a booking's deposit, pure: which of the customer's coupons a booking takes (no module
// or "booking", no product scope, no free item; available and within its dates), what each takes
// off a deposit by the server's rule (threshold against the deposit, at most the deposit, a
// percentage rounded down to its cap), the server's order of them, the choice in the hold's body,
// the coupon row and picker, the refusal in Chinese, and a held deposit with a coupon on it as the
// pay step and my bookings show it.
import { ApiError } from '../../miniprogram/core/errors';
import { configOf, describeError, type Reservation } from '../../miniprogram/packages/booking/services/booking';
import { bookingView } from '../../miniprogram/packages/booking/services/booking-view';
import {
  BEST,
  bestCoupon,
  bookingCoupons,
  choiceKey,
  couponFields,
  couponPicker,
  depositOff,
  depositSummary,
  discountLines,
  forBooking,
  ranked,
  refusalText,
  summaryText,
  usableNow,
  type Coupon,
  type Terms,
} from '../../miniprogram/packages/booking/services/deposit';

// Tuesday 2026-11-24 23:30 in Shanghai.
const NOW = Date.parse('2026-11-24T15:30:00Z');

function terms(over: Partial<Terms> = {}): Terms {
  return {
    id: 'tpl',
    title_zh: '定金立减10元',
    title_en: '¥10 off the deposit',
    description: '',
    kind: 'amount_off',
    amount_off_fen: 1000,
    percent_off: 0,
    cap_fen: 0,
    threshold_fen: 0,
    free_product_id: '',
    limited_scope: false,
    modules: ['booking'],
    per_customer_limit: 1,
    remaining: 0,
    valid_days: 7,
    ...over,
  };
}

function coupon(id: string, over: Partial<Terms> = {}, c: Partial<Coupon> = {}): Coupon {
  return {
    id,
    source: 'claimed',
    state: 'available',
    terms: terms({ id: `tpl-${id}`, ...over }),
    valid_from: '2026-11-20T00:00:00Z',
    valid_until: '2026-12-20T00:00:00Z',
    ...c,
  };
}

describe('coupons a booking takes', () => {
  it('takes templates for every module or for booking, without a product scope or a free item', () => {
    expect(forBooking(terms({ modules: [] }))).toBe(true);
    expect(forBooking(terms({ modules: ['booking'] }))).toBe(true);
    expect(forBooking(terms({ modules: ['ordering', 'booking'] }))).toBe(true);
    expect(forBooking(terms({ modules: ['ordering'] }))).toBe(false);
    expect(forBooking(terms({ modules: [], limited_scope: true }))).toBe(false);
    expect(forBooking(terms({ modules: [], kind: 'free_item' }))).toBe(false);
  });

  it('keeps the customer’s available coupons within their dates, in the list’s order', () => {
    const list = [
      coupon('c-all', { modules: [] }),
      coupon('c-order', { modules: ['ordering'] }),
      coupon('c-scoped', { limited_scope: true }),
      coupon('c-locked', {}, { state: 'locked' }),
      coupon('c-used', {}, { state: 'used' }),
      coupon('c-later', {}, { valid_from: '2026-11-25T00:00:00Z' }),
      coupon('c-ended', {}, { valid_until: '2026-11-24T15:00:00Z' }),
      coupon('c-book', { modules: ['booking'] }),
    ];
    expect(bookingCoupons(list, NOW).map((c) => c.id)).toEqual(['c-all', 'c-book']);
    expect(usableNow(coupon('x', {}, { valid_until: '2026-11-24T15:30:00Z' }), NOW)).toBe(false);
  });
});

describe('what a coupon takes off a deposit', () => {
  it('takes an amount off, at most the deposit', () => {
    expect(depositOff(terms(), 3000)).toEqual({ off: 1000, problem: '' });
    expect(depositOff(terms({ amount_off_fen: 5000 }), 3000)).toEqual({ off: 3000, problem: '' });
  });

  it('measures the threshold against the deposit', () => {
    const t = terms({ kind: 'threshold', threshold_fen: 3000, amount_off_fen: 500 });
    expect(depositOff(t, 2999)).toEqual({ off: 0, problem: 'BELOW_THRESHOLD' });
    expect(depositOff(t, 3000)).toEqual({ off: 500, problem: '' });
  });

  it('rounds a percentage down and stops at its cap', () => {
    expect(depositOff(terms({ kind: 'percent_off', percent_off: 15, amount_off_fen: 0 }), 3333)).toEqual({ off: 499, problem: '' });
    expect(depositOff(terms({ kind: 'percent_off', percent_off: 50, cap_fen: 800 }), 3000)).toEqual({ off: 800, problem: '' });
  });

  it('takes nothing off no deposit, or with a coupon a booking does not take', () => {
    expect(depositOff(terms(), 0)).toEqual({ off: 0, problem: 'NOT_IN_SCOPE' });
    expect(depositOff(terms({ modules: ['ordering'] }), 3000)).toEqual({ off: 0, problem: 'NOT_IN_SCOPE' });
    expect(depositOff(terms({ kind: 'free_item', modules: [] }), 3000)).toEqual({ off: 0, problem: 'NOT_IN_SCOPE' });
  });

  it('ranks them as the server tries them: most off first, of equal ones the first to end', () => {
    const list = [
      coupon('c-5', { amount_off_fen: 500 }),
      coupon('c-10-late', { amount_off_fen: 1000 }, { valid_until: '2026-12-30T00:00:00Z' }),
      coupon('c-big', { kind: 'threshold', threshold_fen: 10000, amount_off_fen: 2000 }),
      coupon('c-10-soon', { amount_off_fen: 1000 }, { valid_until: '2026-12-01T00:00:00Z' }),
    ];
    expect(ranked(list, 3000).map((r) => [r.coupon.id, r.off])).toEqual([
      ['c-10-soon', 1000],
      ['c-10-late', 1000],
      ['c-5', 500],
      ['c-big', 0],
    ]);
    expect(bestCoupon(list, 3000)?.coupon.id).toBe('c-10-soon');
    expect(bestCoupon([list[2]!], 3000)).toBeUndefined();
  });
});

describe('the coupon choice in the hold', () => {
  it('names nothing for the best coupon, the coupon picked, or no coupon', () => {
    expect(couponFields(BEST)).toEqual({});
    expect(couponFields({ kind: 'coupon', id: 'c-1' })).toEqual({ coupon_id: 'c-1' });
    expect(couponFields({ kind: 'none' })).toEqual({ no_coupon: true });
    expect([BEST, { kind: 'coupon' as const, id: 'c-1' }, { kind: 'none' as const }].map(choiceKey)).toEqual([
      'best',
      'coupon:c-1',
      'none',
    ]);
  });
});

describe('the coupon row and picker', () => {
  // A ¥30 deposit; the customer holds 定金立减10元, 定金8折 (¥6 off) and 满100减20 (below its threshold).
  const list = [
    coupon('c-pct', { title_zh: '定金8折', kind: 'percent_off', percent_off: 20, amount_off_fen: 0 }),
    coupon('c-10', { title_zh: '定金立减10元', threshold_fen: 2000 }),
    coupon('c-big', { title_zh: '满100减20', kind: 'threshold', threshold_fen: 10000, amount_off_fen: 2000 }),
  ];

  it('uses the best by default, and estimates what is left to pay', () => {
    const p = couponPicker(list, 3000, BEST);
    expect(p).toMatchObject({
      shown: true,
      summary: '自动使用最优券',
      amount: '-¥10.00',
      dueFen: 2000,
      due: '应付定金 ¥20.00',
      covered: false,
      problem: '',
      bestChosen: true,
      noneChosen: false,
    });
    expect(p.options).toEqual([
      { id: 'c-10', title: '定金立减10元', note: '定金满20元可用', amount: '-¥10.00', problem: '', usable: true, chosen: false },
      { id: 'c-pct', title: '定金8折', note: '无门槛', amount: '-¥6.00', problem: '', usable: true, chosen: false },
      { id: 'c-big', title: '满100减20', note: '', amount: '', problem: '未达到使用门槛', usable: false, chosen: false },
    ]);
  });

  it('shows the coupon picked, or none', () => {
    const picked = couponPicker(list, 3000, { kind: 'coupon', id: 'c-pct' });
    expect(picked).toMatchObject({ summary: '定金8折', amount: '-¥6.00', due: '应付定金 ¥24.00', bestChosen: false });
    expect(picked.options.filter((o) => o.chosen).map((o) => o.id)).toEqual(['c-pct']);
    const none = couponPicker(list, 3000, { kind: 'none' });
    expect(none).toMatchObject({ summary: '不使用优惠券', amount: '', due: '', dueFen: 3000, noneChosen: true });
    expect(none.options.some((o) => o.chosen)).toBe(false);
  });

  it('says when a coupon pays the whole deposit', () => {
    const p = couponPicker([coupon('c-50', { amount_off_fen: 5000 })], 3000, BEST);
    expect(p).toMatchObject({ amount: '-¥30.00', dueFen: 0, due: '优惠券已抵扣全部定金', covered: true });
  });

  it('hides the row without coupons for booking, and says when none takes anything off', () => {
    expect(couponPicker([], 3000, BEST)).toMatchObject({ shown: false, summary: '暂无可用优惠券', due: '' });
    expect(couponPicker([list[2]!], 3000, BEST)).toMatchObject({ shown: true, summary: '暂无可用优惠券', amount: '' });
  });

  it('keeps a refused choice in view, with the refusal, even when the coupon is gone', () => {
    const p = couponPicker([], 3000, { kind: 'coupon', id: 'c-gone' }, '所选优惠券已被使用或已过期，请重新选择');
    expect(p).toMatchObject({
      shown: true,
      summary: '所选优惠券不可用',
      amount: '',
      due: '',
      problem: '所选优惠券已被使用或已过期，请重新选择',
    });
  });

  it('says in Chinese why the hold refused the coupon picked', () => {
    expect(refusalText('COUPON_UNAVAILABLE')).toBe('所选优惠券已被使用或已过期，请重新选择');
    expect(refusalText('NOT_IN_SCOPE')).toBe('所选优惠券不适用于本次预约，请重新选择');
    expect(refusalText('BELOW_THRESHOLD')).toBe('所选优惠券未达到使用门槛，请重新选择');
    expect(refusalText('SOMETHING_NEW')).toBe('所选优惠券暂不可用，请重新选择');
    const refusal = (metadata: Record<string, string>) => new ApiError({ status: 400, code: 'COUPON_UNAVAILABLE', metadata });
    expect(describeError(refusal({ problem: 'BELOW_THRESHOLD' }))).toBe('所选优惠券未达到使用门槛，请重新选择');
    expect(describeError(refusal({}))).toBe('所选优惠券已被使用或已过期，请重新选择');
  });
});

describe('a held deposit with a coupon on it', () => {
  const line = { kind: 'COUPON', coupon_id: 'c-10', label_zh: '定金立减10元', label_en: '¥10 off', amount_fen: 1000 };
  const reservation = (over: Partial<Reservation> = {}): Reservation => ({
    id: 'r1',
    service_id: 'svc-color',
    staff_id: 's-a',
    status: 'held',
    start_time: '2026-11-27T02:00:00Z',
    local_start: '2026-11-27 10:00',
    price_fen: 38800,
    deposit_fen: 2000,
    deposit_status: 'unpaid',
    deposit_discount_fen: 1000,
    discounts: [line],
    remind: false,
    note: '',
    expire_time: '2026-11-24T15:40:00Z',
    ...over,
  });

  it('reads as the deposit, the discount lines and what is left to pay', () => {
    expect(discountLines([line, { kind: 'OTHER', label_zh: '其他', label_en: 'other', amount_fen: 1 }])).toEqual([
      { key: 'c-10', label: '优惠券 定金立减10元', amount: '-¥10.00' },
      { key: 'OTHER-1', label: '其他', amount: '-¥0.01' },
    ]);
    const s = depositSummary(reservation())!;
    expect(s).toEqual({
      original: '定金 ¥30.00',
      lines: [{ key: 'c-10', label: '优惠券 定金立减10元', amount: '-¥10.00' }],
      due: '应付定金 ¥20.00',
      covered: '',
    });
    expect(summaryText(s)).toBe('定金 ¥30.00\n优惠券 定金立减10元 -¥10.00\n应付定金 ¥20.00');
  });

  it('says when the coupon paid it all, and is nothing without a discount', () => {
    const all = { ...line, label_zh: '定金全免', amount_fen: 3000 };
    const s = depositSummary(reservation({ deposit_fen: 0, deposit_status: 'none', deposit_discount_fen: 3000, discounts: [all] }))!;
    expect(s).toMatchObject({ original: '定金 ¥30.00', due: '', covered: '优惠券已抵扣全部定金' });
    expect(summaryText(s)).toBe('定金 ¥30.00\n优惠券 定金全免 -¥30.00\n优惠券已抵扣全部定金');
    expect(depositSummary(reservation({ deposit_discount_fen: 0, discounts: [] }))).toBeUndefined();
    // A server before deposit discounts sends neither field.
    const old: Partial<Reservation> = reservation();
    delete old.deposit_discount_fen;
    delete old.discounts;
    expect(depositSummary(old as Reservation)).toBeUndefined();
  });

  const cfg = configOf({
    time_zone: 'Asia/Shanghai',
    utc_offset_minutes: 480,
    slot_minutes: 30,
    lead_time_minutes: 60,
    horizon_days: 14,
    cancel_window_hours: 2,
    reschedule_window_hours: 2,
    hold_minutes: 10,
    reminder_template_id: '',
  });
  const names = { services: new Map([['svc-color', '染发']]), staff: new Map<string, string>() };

  it('shows in my bookings what is left to pay, and pays that', () => {
    const v = bookingView(reservation(), names, NOW, cfg);
    expect(v).toMatchObject({
      deposit: '定金 ¥30.00',
      depositLines: [{ key: 'c-10', label: '优惠券 定金立减10元', amount: '-¥10.00' }],
      depositDue: '应付定金 ¥20.00 · 未支付',
      depositCovered: '',
      statusText: '待支付定金',
      canPay: true,
      canConfirm: false,
      deadline: '请在 23:40 前支付定金，逾期名额将释放',
      cancelQuestion: '确定取消这个预约吗？使用的优惠券将退回。',
    });
    const paid = bookingView(reservation({ status: 'confirmed', deposit_status: 'paid', expire_time: null }), names, NOW, cfg);
    expect(paid).toMatchObject({
      depositDue: '应付定金 ¥20.00 · 已支付',
      canPay: false,
      cancelQuestion: '确定取消这个预约吗？已付定金将原路退回，使用的优惠券将退回。',
    });
  });

  it('offers to confirm, not pay, a hold whose deposit a coupon paid', () => {
    const all = { ...line, amount_fen: 3000 };
    const v = bookingView(
      reservation({ deposit_fen: 0, deposit_status: 'none', deposit_discount_fen: 3000, discounts: [all] }),
      names,
      NOW,
      cfg,
    );
    expect(v).toMatchObject({
      deposit: '定金 ¥30.00',
      depositLines: [{ label: '优惠券 定金立减10元', amount: '-¥30.00' }],
      depositDue: '',
      depositCovered: '优惠券已抵扣全部定金',
      statusText: '待确认',
      canPay: false,
      canConfirm: true,
      deadline: '请在 23:40 前确认，逾期名额将释放',
    });
  });
});
