// The booking flow against the real BFF, through the services the pages use: the demo shop
// switches booking on and sets up two staff members, a room for one service, a staff member no
// longer active and two services (one with a deposit) with its admin token; the staff route names
// whom the slots and bookings refer to; customers then read slots in the shop's time zone (the client's zone
// arithmetic must agree with the server's local times), hold once per idempotency key, confirm,
// move and cancel; the shop's windows refuse what the client already hides, with the reason in
// Chinese; a full slot is refused; a deposit is paid through the WeChat Pay fake and confirms the
// booking, and a closed payment sheet leaves the hold payable.
import { admin, phone as openPhone, start, type Server } from '../support/platform';
import type { WxMockOptions } from '../support/wx';

let server: Server;
let shop: ReturnType<typeof admin>;
let cut: string;
let color: string;
let staffA: string;
let staffB: string;
let room: string;
let retired: string;
/** The demo restaurant's merchant at the WeChat Pay fake (crates/server/src/demo.rs). */
const DEMO_MCHID = '1900000109';

const OPEN = { cancel_window_hours: 0, reschedule_window_hours: 0 };

beforeAll(async () => {
  server = await start();
  const { boot } = await openPhone(server);
  shop = admin(server, (await boot.start()).tenant_id);
  shop.enable('booking');
  shop.configure('booking', {
    lead_time_minutes: 0,
    horizon_days: 7,
    time_zone: 'Asia/Shanghai',
    reminder_template_id: 'tmpl-remind',
    ...OPEN,
  });
  staffA = shop.createStaff('合同测试 A');
  staffB = shop.createStaff('合同测试 B');
  cut = shop.createService({ name: '合同测试剪发', minutes: 30, priceFen: 12800 });
  color = shop.createService({ name: '合同测试染发', minutes: 30, priceFen: 38800, depositFen: 5000 });
  room = shop.createStaff('合同测试染发间', { room: true, services: [color] });
  retired = shop.createStaff('合同测试 已离职', { active: false });
});

afterAll(async () => {
  await server?.stop();
});

/** A logged-in customer whose app has the current config. */
async function customer(payment?: WxMockOptions['payment']) {
  const p = await openPhone(server, { payment });
  await p.auth.login();
  await p.boot.refresh(true);
  return p;
}

type Phone = Awaited<ReturnType<typeof customer>>;

/** What the slot page offers: the first range of the date strip, read in the server's zone. */
async function offer(p: Phone, serviceId: string) {
  const now = Date.now();
  const base = await p.booking.settings();
  const strip = p.schedule.dateStrip(now, base);
  const range = p.schedule.dateRanges(strip.map((d) => d.date))[0]!;
  const res = await p.booking.listSlots(serviceId, range.from, range.to);
  const cfg = p.booking.inZone(base, res);
  /** Every choice for `staff` over the range, day by day. */
  const choices = (staff = p.schedule.ANY_STAFF) =>
    strip.flatMap((d) => p.schedule.slotsOn(res.slots, d.date, staff, now, cfg).flatMap((g) => g.slots));
  return { now, cfg, strip, res, choices };
}

async function book(p: Phone, serviceId: string, choice: { start: string; staffId: string }, remind = false) {
  return p.booking.hold({
    serviceId,
    staffId: choice.staffId,
    start: choice.start,
    note: '',
    remind,
    idempotencyKey: p.client.newIdempotencyKey(),
  });
}

describe('booking against the real BFF', () => {
  it('offers slots in the shop’s zone and books the way the pages do: one hold per key, confirm, list, move, cancel', async () => {
    const p = await customer();
    const { now, cfg, strip, res, choices } = await offer(p, cut);
    expect(cfg).toMatchObject({
      timeZone: 'Asia/Shanghai',
      offset: 480,
      horizonDays: 7,
      leadTimeMinutes: 0,
      reminderTemplateId: 'tmpl-remind',
    });
    expect((await p.booking.listServices()).find((s) => s.id === cut)).toMatchObject({
      name: '合同测试剪发',
      duration_minutes: 30,
      deposit_fen: 0,
    });

    expect(res).toMatchObject({ time_zone: 'Asia/Shanghai', utc_offset_minutes: 480 });
    expect(res.slots.length).toBeGreaterThan(0);
    // The client's reading of each start on the shop's clock is the server's.
    for (const s of res.slots) {
      const local = p.schedule.localTime(Date.parse(s.start_time), cfg.offset);
      expect(`${local.date} ${local.time}`).toBe(s.local_start);
    }
    const dates = new Set(strip.map((d) => d.date));
    expect([...p.schedule.datesWithSlots(res.slots, p.schedule.ANY_STAFF, now, cfg)].every((d) => dates.has(d))).toBe(true);
    expect(p.schedule.staffOf(res.slots, now, cfg).map((s) => s.staffId)).toEqual(expect.arrayContaining([staffA, staffB]));

    const [first, second] = choices();
    const key = p.client.newIdempotencyKey();
    const input = { serviceId: cut, staffId: first!.staffId, start: first!.start, note: '合同测试', remind: true, idempotencyKey: key };
    const held = await p.booking.hold(input);
    expect(held).toMatchObject({ status: 'held', deposit_status: 'none', remind: true, note: '合同测试' });
    expect(held.expire_time).toBeTruthy();
    expect((await p.booking.hold(input)).id).toBe(held.id);

    expect((await p.booking.confirm(held.id)).status).toBe('confirmed');
    expect((await p.booking.listAllReservations()).find((r) => r.id === held.id)?.status).toBe('confirmed');

    const moved = await p.booking.reschedule(held.id, second!.start, second!.staffId);
    expect(Date.parse(moved.start_time)).toBe(Date.parse(second!.start));
    expect(moved.status).toBe('confirmed');

    expect(p.schedule.allowed(moved, Date.now(), cfg).cancel).toBe(true);
    expect((await p.booking.cancel(held.id)).status).toBe('cancelled');

    // Last: a new phone takes over the mocked wx (one phone at a time).
    const other = await customer();
    expect((await other.booking.listAllReservations()).map((r) => r.id)).not.toContain(held.id);
    await expect(other.booking.cancel(held.id)).rejects.toMatchObject({ status: 404 });
  });

  it('names the staff the slots and bookings refer to: people and rooms, active ones only', async () => {
    const p = await customer();
    const staff = await p.booking.listStaff();
    const mine = staff.filter((s) => [staffA, staffB, room, retired].includes(s.id));
    expect(mine).toEqual(
      expect.arrayContaining([
        { id: staffA, name: '合同测试 A', kind: 'person', service_ids: [] },
        { id: staffB, name: '合同测试 B', kind: 'person', service_ids: [] },
        { id: room, name: '合同测试染发间', kind: 'room', service_ids: [color] },
      ]),
    );
    expect(mine).toHaveLength(3);

    // What the staff sheet and chips show for each service, from its real slots.
    const labels = async (serviceId: string) => {
      const { now, cfg, res } = await offer(p, serviceId);
      return p.view.staffLabels(
        p.schedule.staffOf(res.slots, now, cfg).map((s) => s.staffId),
        staff,
      );
    };
    const forCut = await labels(cut);
    expect(forCut.map((l) => l.label).sort()).toEqual(['合同测试 A', '合同测试 B']);
    expect(p.view.chooseTitle(forCut)).toBe('选择服务人员');
    const forColor = await labels(color);
    expect(forColor.map((l) => l.label).sort()).toEqual(['合同测试 A', '合同测试 B', '合同测试染发间']);
    expect(forColor.find((l) => l.id === room)?.room).toBe(true);
    expect(p.view.chooseTitle(forColor)).toBe('选择服务人员或房间');

    // A booking with the room reads with its name in my bookings.
    const { cfg, choices } = await offer(p, color);
    const inRoom = choices(room)[0]!;
    expect(inRoom.staffId).toBe(room);
    const held = await book(p, color, inRoom);
    const listed = (await p.booking.listAllReservations()).find((r) => r.id === held.id)!;
    const names = { services: new Map([[color, '合同测试染发']]), staff: p.view.staffNames(staff) };
    expect(p.view.bookingView(listed, names, Date.now(), cfg)).toMatchObject({ service: '合同测试染发', staff: '合同测试染发间' });
    await p.booking.cancel(held.id);
  });

  it('refuses a move or a cancel inside the shop’s windows, as the client predicts, with the hours in Chinese', async () => {
    shop.configure('booking', { cancel_window_hours: 168, reschedule_window_hours: 168 });
    try {
      const p = await customer();
      const { cfg, choices } = await offer(p, cut);
      expect(cfg).toMatchObject({ cancelWindowHours: 168, rescheduleWindowHours: 168 });
      const [first, second] = choices(staffB);
      const r = await p.booking.confirm((await book(p, cut, first!)).id);
      // Within a 7-day horizon every start is less than 168 hours away.
      expect(p.schedule.allowed(r, Date.now(), cfg)).toEqual({ cancel: false, reschedule: false });

      const moving = await p.booking.reschedule(r.id, second!.start).catch((e: unknown) => e);
      expect(moving).toMatchObject({ code: 'RESCHEDULE_WINDOW_PASSED' });
      expect(p.booking.describeError(moving)).toBe('开始前 168 小时内不能改约，如需帮助请联系商家');
      const cancelling = await p.booking.cancel(r.id).catch((e: unknown) => e);
      expect(cancelling).toMatchObject({ code: 'CANCEL_WINDOW_PASSED' });
      expect(p.booking.describeError(cancelling)).toBe('开始前 168 小时内不能取消，如需帮助请联系商家');
    } finally {
      shop.configure('booking', OPEN);
    }
  });

  it('refuses a slot someone else took, and stops offering it', async () => {
    const a = await customer();
    const { choices } = await offer(a, cut);
    const taken = choices(staffA).at(-1)!;
    await book(a, cut, taken);

    const b = await customer();
    const err = await book(b, cut, taken).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SLOT_FULL' });
    expect(b.booking.describeError(err)).toBe('该时段已约满，请选择其他时间');
    const again = await offer(b, cut);
    expect(again.choices(staffA).some((c) => c.start === taken.start)).toBe(false);
  });

  it('takes a deposit with WeChat Pay: paying confirms the booking, cancelling refunds it', async () => {
    let reservation = '';
    const p = await customer(async (args: { package: string }) => {
      expect(args.package).toMatch(/^prepay_id=/);
      // The customer pays in WeChat's sheet: the fake records it and notifies the server.
      const res = await fetch(`${server.wechatFake}/__fake/pay/transactions/${reservation.replace(/-/g, '')}/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mchid: DEMO_MCHID }),
      });
      return res.ok ? 'paid' : 'fail';
    });
    const { choices } = await offer(p, color);
    const held = await book(p, color, choices()[0]!);
    reservation = held.id;
    expect(held).toMatchObject({ status: 'held', deposit_fen: 5000, deposit_status: 'unpaid' });
    // A deposit cannot be skipped by confirming.
    const skipping = await p.booking.confirm(held.id).catch((e: unknown) => e);
    expect(skipping).toMatchObject({ code: 'DEPOSIT_REQUIRED' });
    expect(p.booking.describeError(skipping)).toBe('该服务需先支付定金');

    const paid = await p.booking.payDepositFlow(held.id);
    expect(paid.outcome).toBe('paid');
    expect(paid.reservation).toMatchObject({ id: held.id, status: 'confirmed', deposit_status: 'paid' });

    const cancelled = await p.booking.cancel(held.id);
    expect(cancelled.status).toBe('cancelled');
    expect(['refunding', 'refunded']).toContain(cancelled.deposit_status);
  });

  it('keeps the hold payable from my bookings when the customer closes the payment sheet', async () => {
    const p = await customer('cancel');
    const { cfg, choices } = await offer(p, color);
    const held = await book(p, color, choices()[1]!);
    const r = await p.booking.payDepositFlow(held.id);
    expect(r.outcome).toBe('cancelled');
    const mine = (await p.booking.listAllReservations()).find((x) => x.id === held.id)!;
    expect(mine).toMatchObject({ status: 'held', deposit_status: 'unpaid' });
    expect(p.schedule.isLiveHold(mine, Date.now())).toBe(true);
    expect(p.schedule.allowed(mine, Date.now(), cfg).cancel).toBe(true);
  });
});
