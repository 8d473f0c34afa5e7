// The booking subpackage's pages against a fake booking BFF, on a pinned clock (Tuesday
// 2026-11-24 23:30 in Shanghai): the service list and staff choice by name (and without the
// staff list: numbered, nothing blocked); the date strip, slots, staff chips and the confirm button (reminder prompt in the tap, hold with an idempotency key and the remind
// flag only on accept, confirm or deposit payment, a full slot reloaded); rescheduling; my
// bookings with who performs each and cancel and reschedule only inside the shop's windows.
// Coupons on the deposit (marketing on): the 优惠券 row and picker (best by default, a coupon picked,
// none; those a booking does not take left out, those below their threshold greyed), the choice
// in the hold, the deposit left to pay shown before paying, a deposit a coupon paid confirmed
// instead, a coupon the hold refuses said and chosen again; my bookings with the discount.
import {
  bookingModule,
  bootConfig,
  flush,
  installWx,
  marketingModule,
  signIn,
  type FakeRequest,
  type FakeResponse,
  type WxMockOptions,
} from '../support/wx';
import { render, resetCore, tap, text, texts } from '../support/simulate';

const APPID = 'wxshop00000001';
const NOW = Date.parse('2026-11-24T15:30:00Z');
const user = { id: 'u1', display_name: '顾客', nickname: '小明', avatar_url: '', phone: '' };
const prepay = { timeStamp: '1700000000', nonceStr: 'n', package: 'prepay_id=wx-dep', signType: 'RSA', paySign: 'sig' };

const services = [
  { id: 'svc-cut', name: '剪发', description: '洗剪吹', duration_minutes: 60, price_fen: 12800, deposit_fen: 0 },
  { id: 'svc-color', name: '染发', description: '', duration_minutes: 120, price_fen: 38800, deposit_fen: 5000 },
];

const person = (id: string, name: string) => ({ id, name, kind: 'person', service_ids: [] as string[] });
const staffList = [person('s-a', '王师傅'), person('s-b', '李师傅')];
/** The staff route of a server that does not have it yet. */
const noStaffRoute = (): FakeResponse => ({
  status: 404,
  body: { code: 'NOT_FOUND', message: 'no route', details: { fields: [], metadata: {} } },
});

const slot = (staff_id: string, start: string, remaining = 1) => ({
  staff_id,
  start_time: start,
  end_time: new Date(Date.parse(start) + 3_600_000).toISOString(),
  local_start: '',
  remaining,
});
// Wednesday 25th: 10:00 with both (s-a has 2 places), 14:30 with s-a; Friday 27th: 19:00 with s-b.
const weekSlots = () => [
  slot('s-a', '2026-11-25T02:00:00Z', 2),
  slot('s-b', '2026-11-25T02:00:00Z'),
  slot('s-a', '2026-11-25T06:30:00Z'),
  slot('s-b', '2026-11-27T11:00:00Z'),
];

function reservation(over: Record<string, unknown> = {}) {
  return {
    id: 'r1',
    service_id: 'svc-cut',
    staff_id: 's-a',
    status: 'held',
    start_time: '2026-11-25T02:00:00Z',
    local_start: '2026-11-25 10:00',
    price_fen: 12800,
    deposit_fen: 0,
    deposit_status: 'none',
    deposit_discount_fen: 0,
    discounts: [] as unknown[],
    remind: false,
    expire_time: '2026-11-24T15:40:00Z',
    note: '',
    ...over,
  };
}

type Routes = Record<string, (req: FakeRequest) => FakeResponse>;

function setup(
  routes: Routes,
  opts: { config?: Record<string, unknown>; wx?: WxMockOptions; enabled?: boolean; marketing?: boolean } = {},
) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  const w = installWx({
    appid: APPID,
    ...opts.wx,
    handler: (req) => {
      const all: Routes = { 'GET /api/v1/booking/settings': settings, ...routes };
      const r = all[`${req.method} ${req.path}`];
      return r ? r(req) : { status: 304 };
    },
  });
  resetCore();
  const base = bootConfig();
  const shop: Record<string, unknown> = { time_zone: 'Asia/Shanghai', horizon_days: 14, lead_time_minutes: 60, ...opts.config };
  // What the server answers for the shop's config (the zones used here are all UTC+8).
  const settings = (): FakeResponse => ({
    status: 200,
    body: {
      time_zone: shop.time_zone,
      utc_offset_minutes: 480,
      slot_minutes: 30,
      lead_time_minutes: shop.lead_time_minutes,
      horizon_days: shop.horizon_days,
      cancel_window_hours: shop.cancel_window_hours ?? 2,
      reschedule_window_hours: shop.reschedule_window_hours ?? 2,
      hold_minutes: 10,
      reminder_template_id: shop.reminder_template_id ?? '',
    },
  });
  const booking = bookingModule(shop);
  const modules = [...base.modules, ...(opts.enabled === false ? [] : [booking]), ...(opts.marketing ? [marketingModule()] : [])];
  const config = { ...base, modules };
  w.storage.set(`mm:${APPID}:boot`, { config, etag: 'e', fetchedAt: Date.now() });
  signIn(w, APPID, user);
  return w;
}

afterEach(() => {
  vi.useRealTimers();
});

/** The button labels inside one card (element queries of the simulator do not search inside an element). */
const buttons = (card: any): string[] => [...card.dom.querySelectorAll('wx-button')].map((b: any) => b.textContent.trim());
const inCard = (card: any, cls: string): string | undefined => card.dom.querySelector(`[class*="${cls}"]`)?.textContent.trim();
const modals = (w: ReturnType<typeof setup>) => w.calls.filter((c) => c.api === 'showModal').map((c) => String(c.args.content));
const posts = (w: ReturnType<typeof setup>, path: string) => w.requests.filter((r) => r.method === 'POST' && r.path === path);

async function open(page: string, query: Record<string, string> = {}) {
  const p = render(`packages/booking/pages/${page}/index`);
  await p.instance.onLoad(query);
  await flush(20);
  return p;
}

describe('services page', () => {
  const serviceRoutes = (staff: () => FakeResponse = () => ({ status: 200, body: staffList })): Routes => ({
    'GET /api/v1/booking/services': () => ({ status: 200, body: services }),
    'GET /api/v1/booking/staff': staff,
    'GET /api/v1/booking/services/svc-cut/slots': () => ({ status: 200, body: { slots: weekSlots(), time_zone: 'Asia/Shanghai' } }),
  });

  it('lists services; with two staff members it asks who, by name, or anyone', async () => {
    const w = setup(serviceRoutes());
    const page = await open('services');
    // The staff list is read once, with the services.
    expect(w.requests.filter((r) => r.path === '/api/v1/booking/staff')).toHaveLength(1);
    expect(texts(page, '.services__name')).toEqual(['剪发', '染发']);
    expect(texts(page, '.services__duration')).toEqual(['60 分钟', '120 分钟']);
    expect(texts(page, '.services__price')).toEqual(['¥128.00', '¥388.00']);
    expect(texts(page, '.services__deposit')).toEqual(['定金 ¥50.00']);

    await tap(page, '.services__item', 0);
    await flush(20);
    // The horizon in the shop's dates: from tomorrow (the lead time ends after midnight) for 14 days.
    const q = w.requests.find((r) => r.path === '/api/v1/booking/services/svc-cut/slots')!.query;
    expect([q.get('from'), q.get('to'), q.get('staff_id')]).toEqual(['2026-11-25', '2026-12-08', null]);
    expect(text(page, '.services__sheet-title')).toBe('选择服务人员 · 剪发');
    expect(texts(page, '.services__staff-label')).toEqual(['不限', '王师傅', '李师傅']);
    expect(texts(page, '.services__staff-hint')).toEqual([
      '由店家安排，可选时段最多 · 最早可约 11月25日 周三 10:00',
      '最早可约 11月25日 周三 10:00',
      '最早可约 11月25日 周三 10:00',
    ]);
    await tap(page, '.services__staff', 2);
    expect(w.navigations()).toEqual(['navigateTo /packages/booking/pages/slots/index?service=svc-cut&staff=s-b']);
    expect(page.querySelector('.services__sheet')).toBeFalsy();
    expect(w.requests.filter((r) => r.path === '/api/v1/booking/staff')).toHaveLength(1);
  });

  it('asks for a room when rooms perform the service', async () => {
    setup(serviceRoutes(() => ({ status: 200, body: staffList.map((s) => ({ ...s, name: `${s.name}的包间`, kind: 'room' })) })));
    const page = await open('services');
    await tap(page, '.services__item', 0);
    await flush(20);
    expect(text(page, '.services__sheet-title')).toBe('选择房间 · 剪发');
    expect(texts(page, '.services__staff-label')).toEqual(['不限', '王师傅的包间', '李师傅的包间']);
  });

  it('still lists services and offers the staff, numbered, when the staff list does not load', async () => {
    const w = setup(serviceRoutes(noStaffRoute));
    const page = await open('services');
    expect(text(page, '.services__error')).toBe('');
    expect(texts(page, '.services__name')).toEqual(['剪发', '染发']);
    await tap(page, '.services__item', 0);
    await flush(20);
    expect(texts(page, '.services__staff-label')).toEqual(['不限', '服务人员 1', '服务人员 2']);
    await tap(page, '.services__staff', 1);
    expect(w.navigations()).toEqual(['navigateTo /packages/booking/pages/slots/index?service=svc-cut&staff=s-a']);
  });

  it('goes straight to the times when one staff member does the service, and links my bookings', async () => {
    const w = setup({
      'GET /api/v1/booking/services': () => ({ status: 200, body: services }),
      'GET /api/v1/booking/staff': () => ({ status: 200, body: staffList }),
      'GET /api/v1/booking/services/svc-color/slots': () => ({
        status: 200,
        body: { slots: [slot('s-a', '2026-11-25T02:00:00Z')], time_zone: 'Asia/Shanghai' },
      }),
    });
    const page = await open('services');
    await tap(page, '.services__item', 1);
    await flush(20);
    await tap(page, '.services__mine');
    expect(w.navigations()).toEqual([
      'navigateTo /packages/booking/pages/slots/index?service=svc-color&staff=any',
      'navigateTo /packages/booking/pages/bookings/index',
    ]);
  });

  it('sends a deep link to the "not available" page when booking is off', async () => {
    const w = setup({}, { enabled: false });
    await open('services');
    expect(w.navigations()).toEqual(['redirectTo /pages/unavailable/index?module=booking']);
  });
});

describe('slots page', () => {
  function bookingRoutes(over: Routes = {}): Routes {
    return {
      'GET /api/v1/booking/services': () => ({ status: 200, body: services }),
      'GET /api/v1/booking/staff': () => ({ status: 200, body: staffList }),
      'GET /api/v1/booking/services/svc-cut/slots': () => ({ status: 200, body: { slots: weekSlots(), time_zone: 'Asia/Shanghai' } }),
      'GET /api/v1/booking/services/svc-color/slots': () => ({ status: 200, body: { slots: weekSlots(), time_zone: 'Asia/Shanghai' } }),
      'POST /api/v1/booking/reservations': () => ({ status: 201, body: reservation() }),
      'POST /api/v1/booking/reservations/r1/confirm': () => ({ status: 200, body: reservation({ status: 'confirmed' }) }),
      ...over,
    };
  }

  it('shows the shop’s dates and times, merges staff for "any", holds and confirms', async () => {
    const w = setup(bookingRoutes());
    const page = await open('slots', { service: 'svc-cut', staff: 'any' });
    expect(text(page, '.slots__service-name')).toBe('剪发');
    expect(texts(page, '.slots__day-label').slice(0, 3)).toEqual(['明天', '周四', '周五']);
    expect(texts(page, '.slots__day')).toHaveLength(14);
    expect(text(page, '.slots__day--on .slots__day-date')).toBe('11-25');
    // Thursday has no free start.
    expect(texts(page, '.slots__day--full .slots__day-date')[0]).toBe('11-26');
    expect(texts(page, '.slots__staff-item')).toEqual(['不限', '王师傅', '李师傅']);
    expect(text(page, '.slots__staff-item--on')).toBe('不限');
    expect(texts(page, '.slots__period')).toEqual(['上午', '下午']);
    // 02:00 UTC is 10:00 in Shanghai; both staff at 10:00 make one start with 3 places.
    expect(texts(page, '.slots__time')).toEqual(['10:00', '14:30']);
    expect(texts(page, '.slots__remaining')).toEqual(['余 3']);
    // Nothing chosen yet: the button does nothing.
    page.instance.onConfirm();
    await flush(10);
    expect(posts(w, '/api/v1/booking/reservations')).toHaveLength(0);

    await tap(page, '.slots__slot', 0);
    // "Any" at 10:00 is 王师傅, who has the most places then: the bar says so.
    expect(text(page, '.slots__chosen')).toBe('11月25日 周三 10:00 · 王师傅');
    expect(text(page, '.slots__confirm')).toBe('确认预约');
    await tap(page, '.slots__confirm');
    await flush(30);

    const held = posts(w, '/api/v1/booking/reservations');
    expect(held).toHaveLength(1);
    // "Any" books the staff member with the most places left at that time.
    expect(held[0]!.data).toEqual({ service_id: 'svc-cut', staff_id: 's-a', start_time: '2026-11-25T02:00:00Z', note: '', remind: false });
    expect(held[0]!.header['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(posts(w, '/api/v1/booking/reservations/r1/confirm')).toHaveLength(1);
    // Reminders are off in this shop: no prompt.
    expect(w.calls.some((c) => c.api === 'requestSubscribeMessage')).toBe(false);
    expect(w.toasts()).toContain('预约成功');
    expect(w.navigations()).toEqual(['redirectTo /packages/booking/pages/bookings/index']);
  });

  it('asks for the reminder inside the tap, before the hold, and sends remind only on accept', async () => {
    const w = setup(
      bookingRoutes({
        'POST /api/v1/booking/reservations': () => {
          // The prompt came first.
          expect(w.calls.some((c) => c.api === 'requestSubscribeMessage')).toBe(true);
          return { status: 201, body: reservation() };
        },
      }),
      { config: { reminder_template_id: 'tmpl-remind' }, wx: { subscribe: 'accept' } },
    );
    const page = await open('slots', { service: 'svc-cut', staff: 'any' });
    await tap(page, '.slots__slot', 1);
    // The button's handler (the simulator delivers taps a microtask later, so call it directly):
    // the prompt is asked before it returns, i.e. before anything is awaited, as WeChat requires.
    page.instance.onConfirm();
    const asked = w.calls.find((c) => c.api === 'requestSubscribeMessage');
    expect(asked?.args.tmplIds).toEqual(['tmpl-remind']);
    await flush(30);
    expect(posts(w, '/api/v1/booking/reservations')[0]!.data).toMatchObject({
      start_time: '2026-11-25T06:30:00Z',
      staff_id: 's-a',
      remind: true,
    });
    expect(w.navigations()).toEqual(['redirectTo /packages/booking/pages/bookings/index']);
  });

  for (const answer of ['reject', 'fail'] as const) {
    it(`books without a reminder when the prompt ends in "${answer}"`, async () => {
      const w = setup(bookingRoutes(), { config: { reminder_template_id: 'tmpl-remind' }, wx: { subscribe: answer } });
      const page = await open('slots', { service: 'svc-cut', staff: 'any' });
      await tap(page, '.slots__slot', 0);
      await tap(page, '.slots__confirm');
      await flush(30);
      expect(w.calls.filter((c) => c.api === 'requestSubscribeMessage')).toHaveLength(1);
      expect(posts(w, '/api/v1/booking/reservations')[0]!.data).toMatchObject({ remind: false });
      expect(posts(w, '/api/v1/booking/reservations/r1/confirm')).toHaveLength(1);
      expect(w.navigations()).toEqual(['redirectTo /packages/booking/pages/bookings/index']);
    });
  }

  it('pays the deposit after the hold: payment confirms, no confirm call', async () => {
    const held = reservation({ service_id: 'svc-color', deposit_fen: 5000, deposit_status: 'unpaid' });
    const w = setup(
      bookingRoutes({
        'POST /api/v1/booking/reservations': () => ({ status: 201, body: held }),
        'POST /api/v1/booking/reservations/r1/deposit': (req) => {
          expect(req.data).toBeUndefined();
          return { status: 200, body: { reservation: held, wechat_pay: prepay } };
        },
        'POST /api/v1/booking/reservations/r1/deposit/refresh': () => ({
          status: 200,
          body: { ...held, status: 'confirmed', deposit_status: 'paid' },
        }),
      }),
    );
    const page = await open('slots', { service: 'svc-color', staff: 'any' });
    expect(text(page, '.slots__deposit')).toBe('· 定金 ¥50.00');
    await tap(page, '.slots__slot', 0);
    expect(text(page, '.slots__confirm')).toBe('支付定金并预约');
    await tap(page, '.slots__confirm');
    await flush(30);
    expect(w.calls.find((c) => c.api === 'requestPayment')!.args).toMatchObject(prepay);
    expect(posts(w, '/api/v1/booking/reservations/r1/deposit/refresh')).toHaveLength(1);
    expect(posts(w, '/api/v1/booking/reservations/r1/confirm')).toHaveLength(0);
    expect(w.toasts()).toContain('定金已支付，预约成功');
    expect(w.navigations()).toEqual(['redirectTo /packages/booking/pages/bookings/index']);
  });

  it('keeps the hold when the customer closes the payment sheet and says until when', async () => {
    const held = reservation({ service_id: 'svc-color', deposit_fen: 5000, deposit_status: 'unpaid' });
    const w = setup(
      bookingRoutes({
        'POST /api/v1/booking/reservations': () => ({ status: 201, body: held }),
        'POST /api/v1/booking/reservations/r1/deposit': () => ({ status: 200, body: { reservation: held, wechat_pay: prepay } }),
      }),
      { wx: { payment: 'cancel' } },
    );
    const page = await open('slots', { service: 'svc-color', staff: 'any' });
    await tap(page, '.slots__slot', 0);
    await tap(page, '.slots__confirm');
    await flush(30);
    // The hold's deadline, 15:40 UTC, on the shop's clock.
    expect(modals(w)).toEqual(['定金未支付。名额为您保留至 23:40，可在“我的预约”中继续支付。']);
    expect(posts(w, '/api/v1/booking/reservations/r1/deposit/refresh')).toHaveLength(0);
    expect(posts(w, '/api/v1/booking/reservations/r1/confirm')).toHaveLength(0);
    expect(w.navigations()).toEqual(['redirectTo /packages/booking/pages/bookings/index']);
  });

  it('shows the server’s refusal of a full slot, drops it and reloads the day', async () => {
    let loads = 0;
    const w = setup(
      bookingRoutes({
        'GET /api/v1/booking/services/svc-cut/slots': () => {
          loads++;
          const slots = loads === 1 ? weekSlots() : weekSlots().filter((s) => s.start_time !== '2026-11-25T02:00:00Z');
          return { status: 200, body: { slots, time_zone: 'Asia/Shanghai' } };
        },
        'POST /api/v1/booking/reservations': () => ({
          status: 400,
          body: { code: 'SLOT_FULL', message: 'that time is fully booked', details: { fields: [], metadata: {} } },
        }),
      }),
    );
    const page = await open('slots', { service: 'svc-cut', staff: 'any' });
    await tap(page, '.slots__slot', 0);
    await tap(page, '.slots__confirm');
    await flush(30);
    expect(modals(w)).toEqual(['该时段已约满，请选择其他时间']);
    expect(loads).toBe(2);
    expect(texts(page, '.slots__time')).toEqual(['14:30']);
    expect(text(page, '.slots__chosen')).toBe('请选择时间');
    expect(w.navigations()).toEqual([]);
  });

  it('moves a booking: same staff member preselected, one reschedule call, back to my bookings', async () => {
    const w = setup(
      bookingRoutes({
        'POST /api/v1/booking/reservations/r1/reschedule': () => ({
          status: 200,
          body: reservation({ status: 'confirmed', staff_id: 's-b', start_time: '2026-11-27T11:00:00Z' }),
        }),
      }),
      { config: { reminder_template_id: 'tmpl-remind' }, wx: { subscribe: 'accept' } },
    );
    const page = await open('slots', { service: 'svc-cut', staff: 's-b', reschedule: 'r1', was: '2026-11-25T02:00:00Z' });
    expect(text(page, '.slots__reschedule-from')).toBe('原预约时间：11月25日 周三 10:00 · 李师傅');
    expect(text(page, '.slots__staff-item--on')).toBe('李师傅');
    expect(texts(page, '.slots__time')).toEqual(['10:00']);
    await tap(page, '.slots__day', 2);
    expect(texts(page, '.slots__time')).toEqual(['19:00']);
    await tap(page, '.slots__slot', 0);
    expect(text(page, '.slots__chosen')).toBe('11月27日 周五 19:00 · 李师傅');
    expect(text(page, '.slots__confirm')).toBe('确认改约');
    await tap(page, '.slots__confirm');
    await flush(30);
    expect(posts(w, '/api/v1/booking/reservations/r1/reschedule')[0]!.data).toEqual({
      start_time: '2026-11-27T11:00:00Z',
      staff_id: 's-b',
    });
    expect(posts(w, '/api/v1/booking/reservations')).toHaveLength(0);
    expect(w.calls.some((c) => c.api === 'requestSubscribeMessage')).toBe(false);
    expect(w.toasts()).toContain('改约成功');
    expect(w.calls.some((c) => c.api === 'navigateBack')).toBe(true);
  });

  it('calls a staff member the list does not name "服务人员" and books them all the same', async () => {
    const w = setup(bookingRoutes({ 'GET /api/v1/booking/staff': () => ({ status: 200, body: [staffList[0]] }) }));
    const page = await open('slots', { service: 'svc-cut', staff: 'any' });
    expect(texts(page, '.slots__staff-item')).toEqual(['不限', '王师傅', '服务人员']);
    await tap(page, '.slots__staff-item', 2);
    await tap(page, '.slots__slot', 0);
    // No name to give: the time alone.
    expect(text(page, '.slots__chosen')).toBe('11月25日 周三 10:00');
    await tap(page, '.slots__confirm');
    await flush(30);
    expect(posts(w, '/api/v1/booking/reservations')[0]!.data).toMatchObject({ staff_id: 's-b', start_time: '2026-11-25T02:00:00Z' });
  });

  it('moves a booking without the staff list: numbered chips, the old time alone', async () => {
    setup(bookingRoutes({ 'GET /api/v1/booking/staff': noStaffRoute }));
    const page = await open('slots', { service: 'svc-cut', staff: 's-b', reschedule: 'r1', was: '2026-11-25T02:00:00Z' });
    expect(text(page, '.slots__error')).toBe('');
    expect(text(page, '.slots__reschedule-from')).toBe('原预约时间：11月25日 周三 10:00');
    expect(texts(page, '.slots__staff-item')).toEqual(['不限', '服务人员 1', '服务人员 2']);
    expect(text(page, '.slots__staff-item--on')).toBe('服务人员 2');
    expect(texts(page, '.slots__time')).toEqual(['10:00']);
  });
});

describe('my bookings page', () => {
  // Windows: cancel 24 h, reschedule 12 h before the start.
  const config = { cancel_window_hours: 24, reschedule_window_hours: 12 };
  const soon = reservation({ id: 'r-soon', status: 'confirmed', start_time: '2026-11-25T02:00:00Z', expire_time: null }); // 10.5 h ahead
  const held = reservation({
    id: 'r-held',
    service_id: 'svc-color',
    start_time: '2026-11-27T02:00:00Z',
    deposit_fen: 5000,
    deposit_status: 'unpaid',
    price_fen: 38800,
  });
  const later = reservation({ id: 'r-later', status: 'confirmed', start_time: '2026-11-28T06:00:00Z', staff_id: 's-b', expire_time: null });
  const old = reservation({ id: 'r-old', status: 'completed', start_time: '2026-11-20T02:00:00Z', expire_time: null });

  function routes(over: Routes = {}): Routes {
    return {
      'GET /api/v1/booking/services': () => ({ status: 200, body: services }),
      'GET /api/v1/booking/staff': () => ({ status: 200, body: staffList }),
      'GET /api/v1/booking/reservations': (req) =>
        req.query.get('page_token') === 'p2'
          ? { status: 200, body: { reservations: [held, later] } }
          : { status: 200, body: { reservations: [old, soon], next_page_token: 'p2' } },
      ...over,
    };
  }

  it('splits upcoming from past and offers cancel and reschedule only outside the windows', async () => {
    const w = setup(routes(), { config });
    const page = await open('bookings');
    // Every page was read: the route lists oldest first.
    expect(w.requests.filter((r) => r.path === '/api/v1/booking/reservations').map((r) => r.query.get('page_token'))).toEqual([null, 'p2']);
    expect(texts(page, '.bookings__upcoming .bookings__service')).toEqual(['剪发', '染发', '剪发']);
    expect(texts(page, '.bookings__upcoming .bookings__staff')).toEqual(['王师傅', '王师傅', '李师傅']);
    expect(texts(page, '.bookings__upcoming .bookings__when')).toEqual([
      '11月25日 周三 10:00',
      '11月27日 周五 10:00',
      '11月28日 周六 14:00',
    ]);
    expect(texts(page, '.bookings__upcoming .bookings__status')).toEqual(['已确认', '待支付定金', '已确认']);

    const cards = page.querySelectorAll('.bookings__upcoming');
    // 10.5 hours ahead: inside both windows, so neither action, and the reason instead.
    expect(buttons(cards[0])).toEqual([]);
    expect(inCard(cards[0], 'bookings__hint')).toBe('开始前 24 小时内不能取消，开始前 12 小时内不能改约，如需帮助请联系商家');
    // 58.5 hours ahead, held with an unpaid deposit: drop, move, pay.
    expect(inCard(cards[1], 'bookings__deposit')).toBe('定金 ¥50.00 · 未支付');
    expect(inCard(cards[1], 'bookings__deadline')).toBe('请在 23:40 前支付定金，逾期名额将释放');
    expect(buttons(cards[1])).toEqual(['取消预约', '改约', '支付定金']);
    expect(buttons(cards[2])).toEqual(['取消预约', '改约']);
    expect(inCard(cards[2], 'bookings__hint')).toBeUndefined();

    await tap(page, '.bookings__tab', 1);
    expect(texts(page, '.bookings__past .bookings__status')).toEqual(['已完成']);
    expect(texts(page, '.bookings__past .bookings__staff')).toEqual(['王师傅']);
  });

  it('lists the bookings without names when the staff list does not load, or does not name someone', async () => {
    setup(routes({ 'GET /api/v1/booking/staff': noStaffRoute }), { config });
    const page = await open('bookings');
    expect(text(page, '.bookings__error')).toBe('');
    expect(texts(page, '.bookings__upcoming .bookings__service')).toEqual(['剪发', '染发', '剪发']);
    expect(texts(page, '.bookings__staff')).toEqual([]);

    setup(routes({ 'GET /api/v1/booking/staff': () => ({ status: 200, body: [staffList[1]] }) }), { config });
    const again = await open('bookings');
    expect(texts(again, '.bookings__upcoming .bookings__staff')).toEqual(['李师傅']);
    expect(texts(again, '.bookings__upcoming .bookings__service')).toEqual(['剪发', '染发', '剪发']);
  });

  it('cancels after asking, and shows the server’s refusal with its window', async () => {
    let refuse = false;
    const w = setup(
      routes({
        'POST /api/v1/booking/reservations/r-later/cancel': () =>
          refuse
            ? {
                status: 400,
                body: { code: 'CANCEL_WINDOW_PASSED', message: 'too late', details: { fields: [], metadata: { hours: '24' } } },
              }
            : { status: 200, body: { ...later, status: 'cancelled' } },
      }),
      { config },
    );
    const page = await open('bookings');
    await tap(page, '.bookings__upcoming .bookings__cancel', 1);
    await flush(30);
    expect(modals(w)).toEqual(['确定取消这个预约吗？']);
    expect(posts(w, '/api/v1/booking/reservations/r-later/cancel')).toHaveLength(1);
    expect(w.toasts()).toContain('预约已取消');

    refuse = true;
    await tap(page, '.bookings__upcoming .bookings__cancel', 1);
    await flush(30);
    expect(modals(w).slice(1)).toEqual(['确定取消这个预约吗？', '开始前 24 小时内不能取消，如需帮助请联系商家']);
  });

  it('pays a held deposit from the list', async () => {
    const w = setup(
      routes({
        'POST /api/v1/booking/reservations/r-held/deposit': () => ({ status: 200, body: { reservation: held, wechat_pay: prepay } }),
        'POST /api/v1/booking/reservations/r-held/deposit/refresh': () => ({
          status: 200,
          body: { ...held, status: 'confirmed', deposit_status: 'paid' },
        }),
      }),
      { config },
    );
    const page = await open('bookings');
    const before = w.requests.filter((r) => r.path === '/api/v1/booking/reservations').length;
    await tap(page, '.bookings__pay');
    await flush(30);
    expect(w.calls.find((c) => c.api === 'requestPayment')!.args).toMatchObject(prepay);
    expect(posts(w, '/api/v1/booking/reservations/r-held/deposit/refresh')).toHaveLength(1);
    expect(w.toasts()).toContain('定金已支付，预约成功');
    // The list was read again.
    expect(w.requests.filter((r) => r.path === '/api/v1/booking/reservations').length).toBeGreaterThan(before);
  });

  it('opens the slot picker to move a booking', async () => {
    const w = setup(routes(), { config });
    const page = await open('bookings');
    await tap(page, '.bookings__upcoming .bookings__reschedule', 1);
    expect(w.navigations()).toEqual([
      'navigateTo /packages/booking/pages/slots/index?service=svc-cut&staff=s-b&reschedule=r-later&was=2026-11-28T06%3A00%3A00Z',
    ]);
  });
});

describe('coupons on the deposit', () => {
  // 染发 asks a ¥50 deposit. The customer holds 定金立减10元 (for booking, ¥10 off: the best), 定金9折
  // (any module, ¥5 off), 满100减20 (below its threshold on ¥50), and two a booking never takes:
  // one for ordering only and one limited to some products.
  const terms = (id: string, title_zh: string, over: Record<string, unknown> = {}) => ({
    id: `tpl-${id}`,
    title_zh,
    title_en: title_zh,
    description: '',
    kind: 'amount_off',
    amount_off_fen: 0,
    percent_off: 0,
    cap_fen: 0,
    threshold_fen: 0,
    free_product_id: '',
    limited_scope: false,
    modules: [] as string[],
    per_customer_limit: 1,
    remaining: 0,
    valid_days: 7,
    ...over,
  });
  const coupon = (id: string, title: string, over: Record<string, unknown> = {}) => ({
    id,
    source: 'claimed',
    state: 'available',
    terms: terms(id, title, over),
    valid_from: '2026-11-20T00:00:00Z',
    valid_until: '2026-12-20T00:00:00Z',
  });
  const held = [
    coupon('c-pct', '定金9折', { kind: 'percent_off', percent_off: 10 }),
    coupon('c-10', '定金立减10元', { amount_off_fen: 1000, modules: ['booking'] }),
    coupon('c-order', '点单立减5元', { amount_off_fen: 500, modules: ['ordering'] }),
    coupon('c-scoped', '指定商品立减5元', { amount_off_fen: 500, limited_scope: true }),
    coupon('c-big', '满100减20', { kind: 'threshold', threshold_fen: 10000, amount_off_fen: 2000 }),
  ];
  const off: Record<string, number> = { 'c-10': 1000, 'c-pct': 500, 'c-all': 5000 };
  const line = (id: string, title: string) => ({ kind: 'COUPON', coupon_id: id, label_zh: title, label_en: title, amount_fen: off[id] });

  /** The hold as the server answers it: the coupon picked (or the best) off the ¥50 deposit. */
  function heldWith(body: { coupon_id?: string; no_coupon?: boolean }, coupons: { id: string; terms: { title_zh: string } }[]) {
    const id = body.no_coupon ? undefined : (body.coupon_id ?? coupons.map((c) => c.id).sort((a, b) => (off[b] ?? 0) - (off[a] ?? 0))[0]);
    const picked = coupons.find((c) => c.id === id && off[c.id]);
    const taken = picked ? off[picked.id]! : 0;
    return reservation({
      service_id: 'svc-color',
      price_fen: 38800,
      deposit_fen: 5000 - taken,
      deposit_status: taken >= 5000 ? 'none' : 'unpaid',
      deposit_discount_fen: taken,
      discounts: picked ? [line(picked.id, picked.terms.title_zh)] : [],
    });
  }

  function routes(over: Routes = {}, coupons: () => unknown[] = () => held): Routes {
    return {
      'GET /api/v1/booking/services': () => ({ status: 200, body: services }),
      'GET /api/v1/booking/staff': () => ({ status: 200, body: staffList }),
      'GET /api/v1/booking/services/svc-color/slots': () => ({ status: 200, body: { slots: weekSlots(), time_zone: 'Asia/Shanghai' } }),
      'GET /api/v1/marketing/coupons': (req) => {
        expect(req.query.get('state')).toBe('available');
        return { status: 200, body: { coupons: coupons() } };
      },
      'POST /api/v1/booking/reservations': (req) => ({ status: 201, body: heldWith(req.data as object, held) }),
      'POST /api/v1/booking/reservations/r1/deposit': () => ({
        status: 200,
        body: { reservation: reservation({ deposit_fen: 4000 }), wechat_pay: prepay },
      }),
      'POST /api/v1/booking/reservations/r1/deposit/refresh': () => ({
        status: 200,
        body: reservation({ status: 'confirmed', deposit_status: 'paid' }),
      }),
      'POST /api/v1/booking/reservations/r1/confirm': () => ({ status: 200, body: reservation({ status: 'confirmed' }) }),
      ...over,
    };
  }
  const holds = (w: ReturnType<typeof setup>) => posts(w, '/api/v1/booking/reservations');
  const modalCalls = (w: ReturnType<typeof setup>) => w.calls.filter((c) => c.api === 'showModal').map((c) => c.args);

  it('offers the coupons a booking takes, the best by default, and holds with the one picked', async () => {
    const w = setup(routes(), { marketing: true });
    const page = await open('slots', { service: 'svc-color', staff: 'any' });
    expect(text(page, '.slots__coupon-summary')).toBe('自动使用最优券');
    expect(text(page, '.slots__coupon-amount')).toBe('-¥10.00');
    expect(text(page, '.slots__coupon-due')).toBe('应付定金 ¥40.00');

    await tap(page, '.slots__coupon');
    expect(texts(page, '.slots__option-title')).toEqual(['自动使用最优券', '定金立减10元', '定金9折', '满100减20', '不使用优惠券']);
    expect(texts(page, '.slots__option-amount')).toEqual(['-¥10.00', '-¥5.00']);
    expect(texts(page, '.slots__option-note')).toEqual(['无门槛', '无门槛']);
    expect(texts(page, '.slots__option--off .slots__option-title')).toEqual(['满100减20']);
    expect(texts(page, '.slots__option-problem')).toEqual(['未达到使用门槛']);
    expect(texts(page, '.slots__option--on .slots__option-title')).toEqual(['自动使用最优券']);
    // A coupon that takes nothing off says why and changes nothing.
    await tap(page, '.slots__option-coupon', 2);
    expect(w.toasts()).toEqual(['未达到使用门槛']);
    expect(page.querySelector('.slots__sheet')).toBeTruthy();

    await tap(page, '.slots__option-coupon', 1);
    expect(page.querySelector('.slots__sheet')).toBeFalsy();
    expect(text(page, '.slots__coupon-summary')).toBe('定金9折');
    expect(text(page, '.slots__coupon-amount')).toBe('-¥5.00');
    expect(text(page, '.slots__coupon-due')).toBe('应付定金 ¥45.00');

    await tap(page, '.slots__slot', 0);
    expect(text(page, '.slots__confirm')).toBe('支付定金并预约');
    await tap(page, '.slots__confirm');
    await flush(40);
    expect(holds(w)[0]!.data).toEqual({
      service_id: 'svc-color',
      staff_id: 's-a',
      start_time: '2026-11-25T02:00:00Z',
      note: '',
      remind: false,
      coupon_id: 'c-pct',
    });
    // Before paying: the deposit, the coupon, and what is left to pay.
    expect(modalCalls(w)).toEqual([
      expect.objectContaining({
        content: '定金 ¥50.00\n优惠券 定金9折 -¥5.00\n应付定金 ¥45.00',
        confirmText: '支付定金',
        cancelText: '稍后',
      }),
    ]);
    expect(w.calls.find((c) => c.api === 'requestPayment')!.args).toMatchObject(prepay);
    expect(w.toasts()).toContain('定金已支付，预约成功');
    expect(w.navigations()).toEqual(['redirectTo /packages/booking/pages/bookings/index']);
  });

  it('holds with the best coupon when nothing is picked, and with none when asked, each choice its own key', async () => {
    const w = setup(
      routes({
        'POST /api/v1/booking/reservations': (req) => {
          // Refused twice for a reason of the shop's: the customer taps again, then changes the coupon.
          if (holds(w).length <= 2) {
            return {
              status: 400,
              body: { code: 'PAYMENT_UNAVAILABLE', message: 'no merchant', details: { fields: [], metadata: {} } },
            };
          }
          return { status: 201, body: heldWith(req.data as object, held) };
        },
      }),
      { marketing: true },
    );
    const page = await open('slots', { service: 'svc-color', staff: 'any' });
    await tap(page, '.slots__slot', 0);
    await tap(page, '.slots__confirm');
    await flush(40);
    const first = holds(w)[0]!;
    expect(first.data).not.toHaveProperty('coupon_id');
    expect(first.data).not.toHaveProperty('no_coupon');
    // The same choice again: the same key.
    await tap(page, '.slots__confirm');
    await flush(40);
    expect(holds(w)[1]!.header['idempotency-key']).toBe(first.header['idempotency-key']);

    await tap(page, '.slots__coupon');
    await tap(page, '.slots__option-none');
    expect(text(page, '.slots__coupon-summary')).toBe('不使用优惠券');
    expect(page.querySelector('.slots__coupon-amount')).toBeFalsy();
    expect(page.querySelector('.slots__coupon-due')).toBeFalsy();
    await tap(page, '.slots__confirm');
    await flush(40);
    const last = holds(w).at(-1)!;
    expect(last.data).toMatchObject({ no_coupon: true });
    expect(last.data).not.toHaveProperty('coupon_id');
    expect(last.header['idempotency-key']).not.toBe(first.header['idempotency-key']);
    // No coupon came off: straight to paying, no step before it.
    expect(modalCalls(w).some((m) => String(m.content).includes('应付定金'))).toBe(false);
    expect(w.calls.some((c) => c.api === 'requestPayment')).toBe(true);
  });

  it('confirms without paying when the coupon pays the whole deposit', async () => {
    const all = [coupon('c-all', '定金全免', { amount_off_fen: 8000, modules: ['booking'] })];
    const w = setup(
      routes(
        {
          'POST /api/v1/booking/reservations': (req) => ({ status: 201, body: heldWith(req.data as object, all) }),
        },
        () => all,
      ),
      { marketing: true },
    );
    const page = await open('slots', { service: 'svc-color', staff: 'any' });
    expect(text(page, '.slots__coupon-amount')).toBe('-¥50.00');
    expect(text(page, '.slots__coupon-due')).toBe('优惠券已抵扣全部定金');
    await tap(page, '.slots__slot', 0);
    expect(text(page, '.slots__confirm')).toBe('确认预约');
    await tap(page, '.slots__confirm');
    await flush(40);
    expect(modalCalls(w)).toEqual([
      expect.objectContaining({ content: '定金 ¥50.00\n优惠券 定金全免 -¥50.00\n优惠券已抵扣全部定金', confirmText: '确认预约' }),
    ]);
    expect(posts(w, '/api/v1/booking/reservations/r1/confirm')).toHaveLength(1);
    expect(posts(w, '/api/v1/booking/reservations/r1/deposit')).toHaveLength(0);
    expect(w.calls.some((c) => c.api === 'requestPayment')).toBe(false);
    expect(w.toasts()).toContain('预约成功');
    expect(w.navigations()).toEqual(['redirectTo /packages/booking/pages/bookings/index']);
  });

  it('keeps the hold when the customer leaves the step before paying, and says until when', async () => {
    const w = setup(routes(), { marketing: true, wx: { confirm: false } });
    const page = await open('slots', { service: 'svc-color', staff: 'any' });
    await tap(page, '.slots__slot', 0);
    await tap(page, '.slots__confirm');
    await flush(40);
    expect(modals(w)).toEqual([
      '定金 ¥50.00\n优惠券 定金立减10元 -¥10.00\n应付定金 ¥40.00',
      '定金未支付。名额为您保留至 23:40，可在“我的预约”中继续支付。',
    ]);
    expect(posts(w, '/api/v1/booking/reservations/r1/deposit')).toHaveLength(0);
    expect(w.navigations()).toEqual(['redirectTo /packages/booking/pages/bookings/index']);
  });

  it('says why the hold refused the coupon picked, reads the coupons again and asks to choose again', async () => {
    let coupons = held;
    const w = setup(
      routes(
        {
          'POST /api/v1/booking/reservations': (req) => {
            const body = req.data as { coupon_id?: string };
            if (body.coupon_id === 'c-10') {
              // Used on another booking meanwhile: gone from the customer's available coupons.
              coupons = held.filter((c) => c.id !== 'c-10');
              return {
                status: 400,
                body: {
                  code: 'COUPON_UNAVAILABLE',
                  message: 'the coupon cannot be used',
                  details: { fields: [], metadata: { problem: 'COUPON_UNAVAILABLE' } },
                },
              };
            }
            return { status: 201, body: heldWith(body, coupons) };
          },
        },
        () => coupons,
      ),
      { marketing: true },
    );
    const page = await open('slots', { service: 'svc-color', staff: 'any' });
    await tap(page, '.slots__coupon');
    await tap(page, '.slots__option-coupon', 0);
    expect(text(page, '.slots__coupon-summary')).toBe('定金立减10元');
    await tap(page, '.slots__slot', 0);
    await tap(page, '.slots__confirm');
    await flush(40);
    expect(modals(w)).toEqual(['所选优惠券已被使用或已过期，请重新选择']);
    expect(w.requests.filter((r) => r.path === '/api/v1/marketing/coupons')).toHaveLength(2);
    // The picker is open on what the customer holds now, the refusal above it.
    expect(page.querySelector('.slots__sheet')).toBeTruthy();
    expect(text(page, '.slots__sheet-problem')).toBe('所选优惠券已被使用或已过期，请重新选择');
    expect(texts(page, '.slots__option-title')).toEqual(['自动使用最优券', '定金9折', '满100减20', '不使用优惠券']);
    expect(text(page, '.slots__coupon-summary')).toBe('所选优惠券不可用');
    expect(text(page, '.slots__coupon-problem')).toBe('所选优惠券已被使用或已过期，请重新选择');
    // The slot stays chosen; holding again now would be refused again: the picker instead.
    await tap(page, '.slots__mask');
    await tap(page, '.slots__confirm');
    expect(holds(w)).toHaveLength(1);
    expect(page.querySelector('.slots__sheet')).toBeTruthy();
    expect(w.toasts()).toContain('所选优惠券已被使用或已过期，请重新选择');

    await tap(page, '.slots__option-best');
    expect(text(page, '.slots__coupon-summary')).toBe('自动使用最优券');
    expect(text(page, '.slots__coupon-amount')).toBe('-¥5.00');
    expect(page.querySelector('.slots__coupon-problem')).toBeFalsy();
    await tap(page, '.slots__confirm');
    await flush(40);
    expect(holds(w)).toHaveLength(2);
    expect(holds(w)[1]!.data).not.toHaveProperty('coupon_id');
    // Another body, another hold: a new idempotency key (the refused one gave its place back).
    expect(holds(w)[1]!.header['idempotency-key']).not.toBe(holds(w)[0]!.header['idempotency-key']);
    expect(modals(w).at(-1)).toBe('定金 ¥50.00\n优惠券 定金9折 -¥5.00\n应付定金 ¥45.00');
  });

  it('shows no coupon row with marketing off, for a service without a deposit, or when moving a booking', async () => {
    const off = setup(routes());
    let page = await open('slots', { service: 'svc-color', staff: 'any' });
    expect(page.querySelector('.slots__coupon')).toBeFalsy();
    expect(off.requests.some((r) => r.path === '/api/v1/marketing/coupons')).toBe(false);

    const free = setup(
      routes({
        'GET /api/v1/booking/services/svc-cut/slots': () => ({ status: 200, body: { slots: weekSlots(), time_zone: 'Asia/Shanghai' } }),
      }),
      { marketing: true },
    );
    page = await open('slots', { service: 'svc-cut', staff: 'any' });
    expect(page.querySelector('.slots__coupon')).toBeFalsy();
    expect(free.requests.some((r) => r.path === '/api/v1/marketing/coupons')).toBe(false);

    const moving = setup(routes(), { marketing: true });
    page = await open('slots', { service: 'svc-color', staff: 's-a', reschedule: 'r1', was: '2026-11-25T02:00:00Z' });
    expect(page.querySelector('.slots__coupon')).toBeFalsy();
    expect(moving.requests.some((r) => r.path === '/api/v1/marketing/coupons')).toBe(false);

    // Coupons that did not load (marketing switched off since the app's config): no row, and the
    // hold lets the server take the best.
    const failing = setup(
      routes({
        'GET /api/v1/marketing/coupons': () => ({
          status: 403,
          body: { code: 'MODULE_DISABLED', message: 'off', details: { fields: [], metadata: {} } },
        }),
      }),
      { marketing: true },
    );
    page = await open('slots', { service: 'svc-color', staff: 'any' });
    expect(page.querySelector('.slots__coupon')).toBeFalsy();
    expect(text(page, '.slots__error')).toBe('');
    await tap(page, '.slots__slot', 0);
    await tap(page, '.slots__confirm');
    await flush(40);
    expect(holds(failing)[0]!.data).not.toHaveProperty('coupon_id');
  });

  it('shows the discount in my bookings: what is left to pay, or confirm when the coupon paid it all', async () => {
    const partial = heldWith({ coupon_id: 'c-10' }, held);
    const all = {
      ...heldWith({}, []),
      id: 'r-all',
      start_time: '2026-11-28T02:00:00Z',
      deposit_fen: 0,
      deposit_status: 'none',
      deposit_discount_fen: 5000,
      discounts: [{ kind: 'COUPON', coupon_id: 'c-all', label_zh: '定金全免', label_en: 'free', amount_fen: 5000 }],
    };
    const w = setup(
      {
        'GET /api/v1/booking/services': () => ({ status: 200, body: services }),
        'GET /api/v1/booking/staff': () => ({ status: 200, body: staffList }),
        'GET /api/v1/booking/reservations': () => ({
          status: 200,
          body: { reservations: [{ ...partial, start_time: '2026-11-27T02:00:00Z' }, all] },
        }),
        'POST /api/v1/booking/reservations/r-all/confirm': () => ({ status: 200, body: { ...all, status: 'confirmed' } }),
      },
      { marketing: true, config: { cancel_window_hours: 0, reschedule_window_hours: 0 } },
    );
    const page = await open('bookings');
    const cards = page.querySelectorAll('.bookings__upcoming');
    expect(inCard(cards[0], 'bookings__deposit')).toBe('定金 ¥50.00');
    expect(inCard(cards[0], 'bookings__discount-label')).toBe('优惠券 定金立减10元');
    expect(inCard(cards[0], 'bookings__discount-amount')).toBe('-¥10.00');
    expect(inCard(cards[0], 'bookings__due')).toBe('应付定金 ¥40.00 · 未支付');
    expect(inCard(cards[0], 'bookings__covered')).toBeUndefined();
    expect(buttons(cards[0])).toEqual(['取消预约', '改约', '支付定金']);

    expect(inCard(cards[1], 'bookings__deposit')).toBe('定金 ¥50.00');
    expect(inCard(cards[1], 'bookings__discount-label')).toBe('优惠券 定金全免');
    expect(inCard(cards[1], 'bookings__discount-amount')).toBe('-¥50.00');
    expect(inCard(cards[1], 'bookings__covered')).toBe('优惠券已抵扣全部定金');
    expect(inCard(cards[1], 'bookings__due')).toBeUndefined();
    expect(inCard(cards[1], 'bookings__status')).toBe('待确认');
    expect(buttons(cards[1])).toEqual(['取消预约', '改约', '确认预约']);
    await tap(page, '.bookings__confirm');
    await flush(30);
    expect(posts(w, '/api/v1/booking/reservations/r-all/confirm')).toHaveLength(1);
    expect(w.toasts()).toContain('预约已确认');

    // Cancelling says the coupon comes back.
    await tap(page, '.bookings__cancel', 0);
    await flush(10);
    expect(modals(w)[0]).toBe('确定取消这个预约吗？使用的优惠券将退回。');
  });
});
