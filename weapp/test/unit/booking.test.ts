// Booking's pure logic: the date strip and the slot list in the shop's time zone (not the
// phone's), "any staff" merging, staff names (and the fallback for ids the staff list does not
// name), the customer's cancel and reschedule windows, and how a booking reads on screen.
import { ApiError } from '../../miniprogram/core/errors';
import { configOf, describeError, inZone, type Reservation, type Staff } from '../../miniprogram/packages/booking/services/booking';
import {
  bookingView,
  chooseTitle,
  dayView,
  staffLabels,
  staffNames,
  when,
  withStaff,
} from '../../miniprogram/packages/booking/services/booking-view';
import {
  allowed,
  dateRanges,
  dateStrip,
  datesWithSlots,
  slotsOn,
  split,
  staffOf,
  type Policy,
  type Slot,
} from '../../miniprogram/packages/booking/services/schedule';

const HOUR = 3_600_000;
const SHANGHAI: Policy = { leadTimeMinutes: 60, horizonDays: 3, cancelWindowHours: 2, rescheduleWindowHours: 4, offset: 480 };
// Tuesday 2026-11-24 23:30 in Shanghai; already Wednesday 00:30 in Tokyo; 15:30 in London.
const NOW = Date.parse('2026-11-24T15:30:00Z');

const slot = (staff_id: string, start: string, remaining = 1): Slot => ({
  staff_id,
  start_time: start,
  end_time: new Date(Date.parse(start) + HOUR).toISOString(),
  remaining,
});

describe('date strip', () => {
  it('runs over local dates from the end of the lead time to the end of the horizon', () => {
    const days = dateStrip(NOW, SHANGHAI);
    // 23:30 + 60 min lead time is tomorrow; now + 3 days is Friday 23:30, still Friday.
    expect(days.map((d) => d.date)).toEqual(['2026-11-25', '2026-11-26', '2026-11-27']);
    expect(days.map((d) => dayView(d, false).label)).toEqual(['明天', '周四', '周五']);
    expect(days[0]).toMatchObject({ day: '11-25', weekday: 3, offsetDays: 1 });
  });

  it('follows the shop’s zone, not the phone’s', () => {
    const tokyo = { ...SHANGHAI, offset: 540 };
    const days = dateStrip(NOW, tokyo);
    expect(days.map((d) => d.date)).toEqual(['2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28']);
    expect(dayView(days[0]!, false).label).toBe('今天');
  });

  it('starts today when the lead time ends today, and is empty when it passes the horizon', () => {
    const morning = Date.parse('2026-11-24T01:00:00Z'); // 09:00 in Shanghai
    expect(dateStrip(morning, { ...SHANGHAI, horizonDays: 1 }).map((d) => d.date)).toEqual(['2026-11-24', '2026-11-25']);
    expect(dateStrip(morning, { ...SHANGHAI, horizonDays: 1, leadTimeMinutes: 2 * 24 * 60 })).toEqual([]);
  });

  it('splits long horizons into ranges the slot route accepts', () => {
    const days = dateStrip(NOW, { ...SHANGHAI, horizonDays: 45 }).map((d) => d.date);
    expect(days).toHaveLength(45);
    expect(dateRanges(days)).toEqual([
      { from: '2026-11-25', to: '2026-12-24' },
      { from: '2026-12-25', to: '2027-01-08' },
    ]);
  });
});

describe('slots of a day', () => {
  const slots = [
    slot('s-b', '2026-11-25T02:00:00Z', 1), // 10:00 local
    slot('s-a', '2026-11-25T02:00:00Z', 3), // 10:00 local, more places
    slot('s-a', '2026-11-25T06:30:00Z'), // 14:30
    slot('s-b', '2026-11-25T11:00:00Z'), // 19:00
    slot('s-a', '2026-11-25T16:30:00Z'), // 00:30 on the 26th: another local day
    slot('s-b', '2026-11-25T03:00:00Z', 0), // full
  ];

  it('merges everyone’s starts for "any", booking the one with most places left', () => {
    const groups = slotsOn(slots, '2026-11-25', 'any', NOW, SHANGHAI);
    expect(groups.map((g) => [g.period, g.slots.map((s) => `${s.time} ${s.staffId} ${s.remaining}`)])).toEqual([
      ['morning', ['10:00 s-a 4']],
      ['afternoon', ['14:30 s-a 1']],
      ['evening', ['19:00 s-b 1']],
    ]);
    expect(groups[0]!.slots[0]!.start).toBe('2026-11-25T02:00:00Z');
  });

  it('keeps one staff member’s starts only', () => {
    const groups = slotsOn(slots, '2026-11-25', 's-b', NOW, SHANGHAI);
    expect(groups.flatMap((g) => g.slots.map((s) => s.time))).toEqual(['10:00', '19:00']);
    expect(slotsOn(slots, '2026-11-26', 's-a', NOW, SHANGHAI).flatMap((g) => g.slots.map((s) => s.time))).toEqual(['00:30']);
  });

  it('drops starts inside the lead time (the page may have been open a while)', () => {
    const later = Date.parse('2026-11-25T01:30:00Z'); // 09:30 local: 10:00 is inside the hour
    expect(slotsOn(slots, '2026-11-25', 'any', later, SHANGHAI).flatMap((g) => g.slots.map((s) => s.time))).toEqual(['14:30', '19:00']);
  });

  it('knows which dates have a free start and who works when', () => {
    expect([...datesWithSlots(slots, 's-b', NOW, SHANGHAI)]).toEqual(['2026-11-25']);
    expect([...datesWithSlots(slots, 'any', NOW, SHANGHAI)].sort()).toEqual(['2026-11-25', '2026-11-26']);
    expect(staffOf(slots, NOW, SHANGHAI)).toEqual([
      { staffId: 's-a', first: '2026-11-25T02:00:00.000Z' },
      { staffId: 's-b', first: '2026-11-25T02:00:00.000Z' },
    ]);
  });
});

describe('staff names', () => {
  const person = (id: string, name: string): Staff => ({ id, name, kind: 'person', service_ids: [] });
  const room = (id: string, name: string): Staff => ({ id, name, kind: 'room', service_ids: ['svc-spa'] });
  const list = [person('s-a', '王师傅'), room('s-r', ' 包间 A '), person('s-b', '李师傅'), person('s-idle', '赵师傅')];

  it('names the staff seen in the slots, in the staff list’s order, rooms marked', () => {
    expect(staffLabels(['s-b', 's-r', 's-a'], list)).toEqual([
      { id: 's-a', label: '王师傅', room: false },
      { id: 's-r', label: '包间 A', room: true },
      { id: 's-b', label: '李师傅', room: false },
    ]);
  });

  it('calls an id the list does not name "服务人员", numbered when there are several', () => {
    expect(staffLabels(['s-gone', 's-a'], list)).toEqual([
      { id: 's-a', label: '王师傅', room: false },
      { id: 's-gone', label: '服务人员', room: false },
    ]);
    // The list did not load: everyone numbered in id order, as before names existed.
    expect(staffLabels(['s-b', 's-a'], []).map((l) => [l.id, l.label])).toEqual([
      ['s-a', '服务人员 1'],
      ['s-b', '服务人员 2'],
    ]);
    // A blank name counts as none.
    expect(staffLabels(['s-x', 's-a'], [person('s-x', '  ')]).map((l) => l.label)).toEqual(['服务人员 1', '服务人员 2']);
    expect(staffLabels([], list)).toEqual([]);
  });

  it('titles the staff sheet by what is in it', () => {
    const labels = staffLabels(['s-a', 's-r', 's-b'], list);
    expect(chooseTitle(labels.filter((l) => !l.room))).toBe('选择服务人员');
    expect(chooseTitle(labels.filter((l) => l.room))).toBe('选择房间');
    expect(chooseTitle(labels)).toBe('选择服务人员或房间');
    expect(chooseTitle(staffLabels(['s-1', 's-2'], []))).toBe('选择服务人员');
  });

  it('mentions a name only when the list has one', () => {
    const names = staffNames([...list, person('s-blank', '')]);
    expect([...names]).toEqual([
      ['s-a', '王师傅'],
      ['s-r', '包间 A'],
      ['s-b', '李师傅'],
      ['s-idle', '赵师傅'],
    ]);
    expect(withStaff('11月25日 周三 10:00', names.get('s-a'))).toBe('11月25日 周三 10:00 · 王师傅');
    expect(withStaff('11月25日 周三 10:00', names.get('s-blank'))).toBe('11月25日 周三 10:00');
  });
});

describe('cancel and reschedule windows', () => {
  const at = (hoursAhead: number) => new Date(NOW + hoursAhead * HOUR).toISOString();
  const held = (hoursAhead: number) => ({ status: 'held', start_time: at(hoursAhead), expire_time: at(0.1) });

  it('lets a confirmed booking be cancelled and moved only while the windows are open', () => {
    expect(allowed({ status: 'confirmed', start_time: at(5) }, NOW, SHANGHAI)).toEqual({ cancel: true, reschedule: true });
    expect(allowed({ status: 'confirmed', start_time: at(4) }, NOW, SHANGHAI)).toEqual({ cancel: true, reschedule: true });
    expect(allowed({ status: 'confirmed', start_time: at(3) }, NOW, SHANGHAI)).toEqual({ cancel: true, reschedule: false });
    expect(allowed({ status: 'confirmed', start_time: at(1.5) }, NOW, SHANGHAI)).toEqual({ cancel: false, reschedule: false });
  });

  it('always lets a live hold be dropped, never an expired or finished booking', () => {
    expect(allowed(held(1), NOW, SHANGHAI)).toEqual({ cancel: true, reschedule: false });
    expect(allowed(held(10), NOW, SHANGHAI)).toEqual({ cancel: true, reschedule: true });
    expect(allowed({ ...held(10), expire_time: at(-0.1) }, NOW, SHANGHAI)).toEqual({ cancel: false, reschedule: false });
    for (const status of ['completed', 'cancelled', 'expired', 'no_show']) {
      expect(allowed({ status, start_time: at(48) }, NOW, SHANGHAI)).toEqual({ cancel: false, reschedule: false });
    }
  });

  it('splits upcoming from past', () => {
    const list = [
      { id: 'late', status: 'confirmed', start_time: at(30) },
      { id: 'soon', ...held(2) },
      { id: 'lapsed', ...held(5), expire_time: at(-1) },
      { id: 'started', status: 'confirmed', start_time: at(-0.5) },
      { id: 'old', status: 'completed', start_time: at(-48) },
      { id: 'dropped', status: 'cancelled', start_time: at(24) },
    ];
    const { upcoming, past } = split(list, NOW);
    expect(upcoming.map((b) => b.id)).toEqual(['soon', 'late']);
    expect(past.map((b) => b.id)).toEqual(['dropped', 'lapsed', 'started', 'old']);
  });
});

describe('booking config and views', () => {
  const reservation = (over: Partial<Reservation> = {}): Reservation => ({
    id: 'r1',
    service_id: 'svc-cut',
    staff_id: 's-a',
    status: 'confirmed',
    start_time: '2026-11-25T02:00:00Z',
    local_start: '2026-11-25 10:00',
    price_fen: 12800,
    deposit_fen: 0,
    deposit_status: 'none',
    deposit_discount_fen: 0,
    discounts: [],
    remind: false,
    note: '',
    ...over,
  });
  const settings = {
    time_zone: 'Asia/Shanghai',
    utc_offset_minutes: 480,
    slot_minutes: 30,
    lead_time_minutes: 60,
    horizon_days: 14,
    cancel_window_hours: 24,
    reschedule_window_hours: 12,
    hold_minutes: 10,
    reminder_template_id: '',
  };
  const cfg = configOf(settings);
  const names = { services: new Map([['svc-cut', '剪发']]), staff: new Map([['s-a', '王师傅']]) };

  it('takes the settings and the zone’s offset from the server', () => {
    expect(configOf({ ...settings, time_zone: 'Asia/Tokyo', utc_offset_minutes: 540, reminder_template_id: ' tmpl-1 ' })).toEqual({
      slotMinutes: 30,
      leadTimeMinutes: 60,
      horizonDays: 14,
      cancelWindowHours: 24,
      rescheduleWindowHours: 12,
      timeZone: 'Asia/Tokyo',
      offset: 540,
      reminderTemplateId: 'tmpl-1',
    });
    // A slot list answered in another zone (the shop moved) is read in that zone.
    expect(inZone(cfg, { time_zone: 'Asia/Tokyo', utc_offset_minutes: 540 })).toMatchObject({ timeZone: 'Asia/Tokyo', offset: 540 });
    expect(inZone(cfg, { time_zone: 'Asia/Shanghai', utc_offset_minutes: 480 })).toBe(cfg);
  });

  it('shows times on the shop’s clock', () => {
    expect(when('2026-11-25T02:00:00Z', 480)).toBe('11月25日 周三 10:00');
    expect(when('2026-11-25T16:30:00Z', 480)).toBe('11月26日 周四 00:30');
    expect(when('2026-11-25T16:30:00Z', 540)).toBe('11月26日 周四 01:30');
    expect(when('', 480)).toBe('');
  });

  it('hides cancel and reschedule inside the windows and says why', () => {
    const v = bookingView(reservation(), names, NOW, cfg); // 10.5 hours ahead
    expect(v).toMatchObject({
      service: '剪发',
      staff: '王师傅',
      statusText: '已确认',
      price: '¥128.00',
      canCancel: false,
      canReschedule: false,
    });
    expect(v.windowHint).toBe('开始前 24 小时内不能取消，开始前 12 小时内不能改约，如需帮助请联系商家');
    const early = bookingView(reservation({ start_time: '2026-11-27T02:00:00Z' }), names, NOW, cfg);
    expect(bookingView(reservation({ service_id: 'svc-gone' }), names, NOW, cfg).service).toBe('预约服务');
    // A staff member the list does not name (no longer active): the booking names no one.
    expect(bookingView(reservation({ staff_id: 's-gone' }), names, NOW, cfg).staff).toBe('');
    expect(early).toMatchObject({ canCancel: true, canReschedule: true, windowHint: '' });
  });

  it('offers to pay a held deposit before the hold runs out, in the shop’s time', () => {
    const v = bookingView(
      reservation({
        status: 'held',
        deposit_fen: 5000,
        deposit_status: 'unpaid',
        expire_time: '2026-11-24T15:40:00Z',
        start_time: '2026-11-27T02:00:00Z',
      }),
      names,
      NOW,
      cfg,
    );
    expect(v).toMatchObject({
      statusText: '待支付定金',
      deposit: '定金 ¥50.00 · 未支付',
      canPay: true,
      canConfirm: false,
      canCancel: true,
    });
    expect(v.deadline).toBe('请在 23:40 前支付定金，逾期名额将释放');
    // Paid already (the notification came first): nothing left to pay, the hold is confirmed soon.
    const settled = reservation({ status: 'held', deposit_fen: 5000, deposit_status: 'paid', expire_time: '2026-11-24T15:40:00Z' });
    expect(bookingView(settled, names, NOW, cfg)).toMatchObject({
      canPay: false,
      canConfirm: false,
      deadline: '',
      deposit: '定金 ¥50.00 · 已支付',
    });
    const paid = bookingView(
      reservation({ deposit_fen: 5000, deposit_status: 'paid', start_time: '2026-11-27T02:00:00Z' }),
      names,
      NOW,
      cfg,
    );
    expect(paid).toMatchObject({
      deposit: '定金 ¥50.00 · 已支付',
      canPay: false,
      cancelQuestion: '确定取消这个预约吗？已付定金将原路退回。',
    });
  });

  it('offers to confirm a hold without a deposit, and shows a lapsed hold as expired', () => {
    const live = bookingView(reservation({ status: 'held', expire_time: '2026-11-24T15:40:00Z' }), names, NOW, cfg);
    expect(live).toMatchObject({ statusText: '待确认', canConfirm: true, canPay: false, deadline: '请在 23:40 前确认，逾期名额将释放' });
    const lapsed = bookingView(reservation({ status: 'held', expire_time: '2026-11-24T15:00:00Z' }), names, NOW, cfg);
    expect(lapsed).toMatchObject({ statusText: '已过期', canConfirm: false, canCancel: false, deadline: '' });
  });

  it('says in Chinese why the server refused, with the window’s hours', () => {
    const refusal = (code: string, metadata: Record<string, string> = {}) => new ApiError({ status: 400, code, metadata });
    expect(describeError(refusal('CANCEL_WINDOW_PASSED', { hours: '24' }))).toBe('开始前 24 小时内不能取消，如需帮助请联系商家');
    expect(describeError(refusal('RESCHEDULE_WINDOW_PASSED', { hours: '12' }))).toBe('开始前 12 小时内不能改约，如需帮助请联系商家');
    expect(describeError(refusal('CANCEL_WINDOW_PASSED'))).toBe('已超过可取消时间');
    expect(describeError(refusal('SLOT_FULL'))).toBe('该时段已约满，请选择其他时间');
    expect(describeError(refusal('OUT_OF_STOCK'))).toBe('商品库存不足');
    expect(describeError(new Error('x'))).toBe('出错了，请稍后再试');
  });
});
