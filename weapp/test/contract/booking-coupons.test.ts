// Coupons on booking deposits against the real BFF, through the services the pages use. The demo
// shop switches booking and marketing on; its admin (gRPC) gives a service a ¥30 deposit, with a
// staff member of its own, and creates coupon templates: 定金立减10元 and 定金全免 (¥50 off) for
// booking only (modules ["booking"]), and one for ordering only. Customers claim them; the coupons
// the slot page offers are those for booking, with what each takes off; a hold through the BFF
// takes the best one off the deposit (deposit_fen is what is left, with the discount line), or the
// one picked, or none when asked, and holds the coupon; cancelling gives the coupon back. A coupon
// a booking does not take is refused (COUPON_UNAVAILABLE, NOT_IN_SCOPE, in Chinese) and the place
// is given back. A coupon that pays the whole deposit leaves nothing to pay: the hold is confirmed
// without paying. A deposit paid after the coupon is charged what is left, and cancelling the paid
// booking gives the coupon back too.
import { admin, phone as openPhone, start, type Server } from '../support/platform';
import type { WxMockOptions } from '../support/wx';

let server: Server;
let shop: ReturnType<typeof admin>;
let service: string;
let staff: string;
let tenOff: string;
let fullOff: string;
let orderOnly: string;
const DEPOSIT = 3000;
const TEN = '定金立减10元';
const FULL = '定金全免';
/** The demo restaurant's merchant at the WeChat Pay fake (crates/server/src/demo.rs). */
const DEMO_MCHID = '1900000109';

beforeAll(async () => {
  server = await start();
  const { boot } = await openPhone(server);
  shop = admin(server, (await boot.start()).tenant_id);
  shop.enable('booking');
  shop.configure('booking', {
    lead_time_minutes: 0,
    horizon_days: 7,
    time_zone: 'Asia/Shanghai',
    cancel_window_hours: 0,
    reschedule_window_hours: 0,
  });
  shop.enable('marketing');
  service = shop.createService({ name: '合同测试定金券服务', minutes: 30, priceFen: 20000, depositFen: DEPOSIT });
  // Only this service, so the other booking tests' services (a shared server) see no one new.
  staff = shop.createStaff('合同测试 定金券', { services: [service] });
  const template = (title: string, offFen: number, modules: string[]) =>
    shop.createCouponTemplate({
      title_zh: title,
      description: '合同测试',
      kind: 'COUPON_KIND_AMOUNT_OFF',
      amount_off_fen: offFen,
      valid_days: 7,
      total_quantity: 50,
      per_customer_limit: 1,
      modules,
      claimable: true,
    });
  tenOff = template(TEN, 1000, ['booking']);
  fullOff = template(FULL, 5000, ['booking']);
  orderOnly = template('合同测试点单券', 500, ['ordering']);
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

/** The service's free starts with its staff member over the first range of the date strip. */
async function choices(p: Phone) {
  const now = Date.now();
  const base = await p.booking.settings();
  const strip = p.schedule.dateStrip(now, base);
  const range = p.schedule.dateRanges(strip.map((d) => d.date))[0]!;
  const res = await p.booking.listSlots(service, range.from, range.to);
  const cfg = p.booking.inZone(base, res);
  const starts = strip.flatMap((d) => p.schedule.slotsOn(res.slots, d.date, staff, now, cfg).flatMap((g) => g.slots));
  return { cfg, starts };
}

function hold(p: Phone, start: string, coupon?: Parameters<Phone['booking']['hold']>[0]['coupon'], key = p.client.newIdempotencyKey()) {
  return p.booking.hold({ serviceId: service, staffId: staff, start, note: '', remind: false, idempotencyKey: key, coupon });
}

/** Where the customer's coupon stands now. */
async function stateOf(p: Phone, id: string) {
  return (await p.marketing.listAllCoupons()).find((c) => c.id === id)?.state;
}

const names = () => ({ services: new Map([[service, '合同测试定金券服务']]), staff: new Map<string, string>() });

describe('coupons on booking deposits against the real BFF', () => {
  it('takes the best coupon for booking off the deposit, shows what is left to pay, and gives it back when cancelled', async () => {
    const p = await customer();
    const ten = await p.marketing.claim(tenOff, p.client.newIdempotencyKey());
    const order = await p.marketing.claim(orderOnly, p.client.newIdempotencyKey());
    expect(ten.terms).toMatchObject({ modules: ['booking'], limited_scope: false, kind: 'amount_off' });

    // What the slot page offers: the coupon for booking, not the one for ordering.
    expect((await p.booking.listServices()).find((s) => s.id === service)?.deposit_fen).toBe(DEPOSIT);
    const offered = await p.booking.listBookingCoupons();
    expect(offered.map((c) => c.id)).toEqual([ten.id]);
    expect(p.deposit.couponPicker(offered, DEPOSIT, p.deposit.BEST)).toMatchObject({
      shown: true,
      summary: '自动使用最优券',
      amount: '-¥10.00',
      due: '应付定金 ¥20.00',
      covered: false,
    });

    const { cfg, starts } = await choices(p);
    const key = p.client.newIdempotencyKey();
    const held = await hold(p, starts[0]!.start, p.deposit.BEST, key);
    expect(held).toMatchObject({
      status: 'held',
      deposit_fen: DEPOSIT - 1000,
      deposit_discount_fen: 1000,
      deposit_status: 'unpaid',
      discounts: [{ kind: 'COUPON', coupon_id: ten.id, label_zh: TEN, label_en: TEN, amount_fen: 1000 }],
    });
    // The same tap retried: the same hold, the same discount, one coupon.
    expect(await hold(p, starts[0]!.start, p.deposit.BEST, key)).toMatchObject({ id: held.id, deposit_fen: DEPOSIT - 1000 });

    // The pay step and my bookings read it the same way.
    const summary = p.deposit.depositSummary(held)!;
    expect(summary).toEqual({
      original: '定金 ¥30.00',
      lines: [{ key: ten.id, label: `优惠券 ${TEN}`, amount: '-¥10.00' }],
      due: '应付定金 ¥20.00',
      covered: '',
    });
    expect(p.deposit.summaryText(summary)).toBe(`定金 ¥30.00\n优惠券 ${TEN} -¥10.00\n应付定金 ¥20.00`);
    const listed = (await p.booking.listAllReservations()).find((r) => r.id === held.id)!;
    expect(listed).toMatchObject({ deposit_fen: DEPOSIT - 1000, deposit_discount_fen: 1000 });
    expect(p.view.bookingView(listed, names(), Date.now(), cfg)).toMatchObject({
      deposit: '定金 ¥30.00',
      depositLines: [{ label: `优惠券 ${TEN}`, amount: '-¥10.00' }],
      depositDue: '应付定金 ¥20.00 · 未支付',
      canPay: true,
      cancelQuestion: '确定取消这个预约吗？使用的优惠券将退回。',
    });

    // The hold holds the coupon: no longer offered; the coupon for ordering is untouched.
    expect(await stateOf(p, ten.id)).toBe('locked');
    expect(await stateOf(p, order.id)).toBe('available');
    expect((await p.booking.listBookingCoupons()).map((c) => c.id)).toEqual([]);

    // Cancelled: the coupon is the customer's again (booking tells marketing before it answers).
    expect((await p.booking.cancel(held.id)).status).toBe('cancelled');
    expect(await stateOf(p, ten.id)).toBe('available');
    expect((await p.booking.listBookingCoupons()).map((c) => c.id)).toEqual([ten.id]);
  });

  it('holds without a coupon when asked, with the one picked, and refuses one a booking does not take, giving the place back', async () => {
    const p = await customer();
    const ten = await p.marketing.claim(tenOff, p.client.newIdempotencyKey());
    const order = await p.marketing.claim(orderOnly, p.client.newIdempotencyKey());
    const { starts } = await choices(p);
    const slot = starts[1]!.start;

    const none = await hold(p, slot, { kind: 'none' });
    expect(none).toMatchObject({ deposit_fen: DEPOSIT, deposit_discount_fen: 0, discounts: [], deposit_status: 'unpaid' });
    expect(p.deposit.depositSummary(none)).toBeUndefined();
    expect(await stateOf(p, ten.id)).toBe('available');
    await p.booking.cancel(none.id);

    const picked = await hold(p, slot, { kind: 'coupon', id: ten.id });
    expect(picked).toMatchObject({ deposit_fen: DEPOSIT - 1000, discounts: [{ coupon_id: ten.id, amount_fen: 1000 }] });
    await p.booking.cancel(picked.id);
    expect(await stateOf(p, ten.id)).toBe('available');

    // The coupon for ordering, picked by hand: refused, in the customer's words.
    const refused = await hold(p, slot, { kind: 'coupon', id: order.id }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'COUPON_UNAVAILABLE', metadata: { problem: 'NOT_IN_SCOPE' } });
    expect(p.booking.describeError(refused)).toBe('所选优惠券不适用于本次预约，请重新选择');
    expect(await stateOf(p, order.id)).toBe('available');
    // A coupon that is not the customer's at all: refused too.
    const unknown = await hold(p, slot, { kind: 'coupon', id: '00000000-0000-0000-0000-000000000000' }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'COUPON_UNAVAILABLE' });
    expect(p.booking.describeError(unknown)).toBe('所选优惠券已被使用或已过期，请重新选择');

    // The place was given back: the same start (one place) holds again with another choice.
    const again = await hold(p, slot, p.deposit.BEST);
    expect(again).toMatchObject({ status: 'held', deposit_fen: DEPOSIT - 1000 });
    await p.booking.cancel(again.id);
  });

  it('confirms without paying when a coupon pays the whole deposit', async () => {
    const p = await customer();
    const full = await p.marketing.claim(fullOff, p.client.newIdempotencyKey());
    const offered = await p.booking.listBookingCoupons();
    expect(p.deposit.couponPicker(offered, DEPOSIT, p.deposit.BEST)).toMatchObject({
      amount: '-¥30.00',
      due: '优惠券已抵扣全部定金',
      covered: true,
    });
    const { cfg, starts } = await choices(p);
    const held = await hold(p, starts[2]!.start);
    expect(held).toMatchObject({
      status: 'held',
      deposit_fen: 0,
      deposit_status: 'none',
      deposit_discount_fen: DEPOSIT,
      discounts: [{ kind: 'COUPON', coupon_id: full.id, label_zh: FULL, amount_fen: DEPOSIT }],
    });
    expect(p.deposit.summaryText(p.deposit.depositSummary(held)!)).toBe(`定金 ¥30.00\n优惠券 ${FULL} -¥30.00\n优惠券已抵扣全部定金`);
    expect(p.view.bookingView(held, names(), Date.now(), cfg)).toMatchObject({
      depositCovered: '优惠券已抵扣全部定金',
      depositDue: '',
      canPay: false,
      canConfirm: true,
    });

    // The path of a service without a deposit: confirm, nothing paid; the coupon is used.
    const confirmed = await p.booking.confirm(held.id);
    expect(confirmed).toMatchObject({ status: 'confirmed', deposit_status: 'none', deposit_fen: 0 });
    expect(await stateOf(p, full.id)).toBe('used');
    // Cancelled once confirmed: the coupon comes back all the same.
    await p.booking.cancel(held.id);
    expect(await stateOf(p, full.id)).toBe('available');
  });

  it('charges what is left of the deposit, and gives the coupon back when the paid booking is cancelled', async () => {
    let reservation = '';
    const p = await customer(async () => {
      const res = await fetch(`${server.wechatFake}/__fake/pay/transactions/${reservation.replace(/-/g, '')}/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mchid: DEMO_MCHID }),
      });
      return res.ok ? 'paid' : 'fail';
    });
    const ten = await p.marketing.claim(tenOff, p.client.newIdempotencyKey());
    const { starts } = await choices(p);
    const held = await hold(p, starts[3]!.start);
    reservation = held.id;
    expect(held).toMatchObject({ deposit_fen: DEPOSIT - 1000, deposit_status: 'unpaid' });

    const paid = await p.booking.payDepositFlow(held.id);
    expect(paid.outcome).toBe('paid');
    expect(paid.reservation).toMatchObject({ status: 'confirmed', deposit_status: 'paid', deposit_fen: DEPOSIT - 1000 });
    expect(await stateOf(p, ten.id)).toBe('used');

    const cancelled = await p.booking.cancel(held.id);
    expect(['refunding', 'refunded']).toContain(cancelled.deposit_status);
    expect(await stateOf(p, ten.id)).toBe('available');
  });
});
