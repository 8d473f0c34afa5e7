// The booking subpackage's pages against a fake booking BFF, on a pinned clock (Tuesday
// 2026-11-24 23:30 in Shanghai): the service list and staff choice by name (and without the
// staff list: numbered, nothing blocked); the date strip, slots, staff chips and the confirm button (reminder prompt in the tap, hold with an idempotency key and the remind
// flag only on accept, confirm or deposit payment, a full slot reloaded); rescheduling; my
// bookings with who performs each and cancel and reschedule only inside the shop's windows.
import {
  bookingModule,
  bootConfig,
  flush,
  installWx,
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
    remind: false,
    expire_time: '2026-11-24T15:40:00Z',
    note: '',
    ...over,
  };
}

type Routes = Record<string, (req: FakeRequest) => FakeResponse>;

function setup(routes: Routes, opts: { config?: Record<string, unknown>; wx?: WxMockOptions; enabled?: boolean } = {}) {
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
  const config = { ...base, modules: opts.enabled === false ? base.modules : [...base.modules, booking] };
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
