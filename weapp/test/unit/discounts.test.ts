import {
  BEST,
  couponFields,
  couponPicker,
  discountLabel,
  discountLines,
  pointsFields,
  pointsOff,
  pointsRow,
  type CouponOption,
  type Discount,
} from '../../miniprogram/packages/ordering/services/discounts';

const option = (coupon_id: string, title_zh: string, amount_fen: number, problem: string | null = null): CouponOption => ({
  coupon_id,
  title_zh,
  title_en: title_zh,
  amount_fen,
  problem,
});
const discount = (coupon_id: string, label_zh: string, amount_fen: number): Discount => ({
  kind: 'COUPON',
  coupon_id,
  label_zh,
  label_en: label_zh,
  amount_fen,
});

// The server ranks coupons best first: 8折 (¥9.60), 满10减3 (¥3), then one below its threshold.
const coupons = [option('c-pct', '全场8折', 960), option('c-3', '满10减3', 300), option('c-big', '满100减20', 0, 'BELOW_THRESHOLD')];

describe('the coupon choice in the quote and order bodies', () => {
  it('names nothing for the best coupon, the coupon picked, or no coupon', () => {
    expect(couponFields(BEST)).toEqual({});
    expect(couponFields({ kind: 'coupon', id: 'c-3' })).toEqual({ coupon_id: 'c-3' });
    expect(couponFields({ kind: 'none' })).toEqual({ no_coupon: true });
  });
});

describe('discount lines', () => {
  it('reads each discount with its amount off', () => {
    expect(discountLines([discount('c-pct', '全场8折', 960), { ...discount('', '会员价', 200), kind: 'MEMBER' }])).toEqual([
      { key: 'c-pct', label: '优惠券 全场8折', amount: '-¥9.60' },
      { key: 'MEMBER-1', label: '会员价', amount: '-¥2.00' },
    ]);
    // An order placed before discounts existed has none.
    expect(discountLines(undefined)).toEqual([]);
  });
});

describe('every kind of discount', () => {
  const d = (kind: string, label_zh: string, amount_fen: number): Discount => ({ kind, label_zh, label_en: label_zh, amount_fen });

  it('reads each kind in the customer’s words, in the server’s order', () => {
    // As marketing labels them: promotions, the member level, the coupon, then points.
    const all = [
      d('PROMOTION', '午市特惠·8折', 500),
      d('PROMOTION', '午市满减·满100减15', 1_500),
      d('MEMBER_LEVEL', '金卡优惠 5%', 240),
      { ...d('COUPON', '满30减5', 500), coupon_id: 'c1' },
      d('POINTS', '积分抵扣（500 积分）', 500),
    ];
    expect(discountLines(all)).toEqual([
      { key: 'PROMOTION-0', label: '促销 午市特惠·8折', amount: '-¥5.00' },
      { key: 'PROMOTION-1', label: '促销 午市满减·满100减15', amount: '-¥15.00' },
      { key: 'MEMBER_LEVEL-2', label: '金卡优惠 5%', amount: '-¥2.40' },
      { key: 'c1', label: '优惠券 满30减5', amount: '-¥5.00' },
      { key: 'POINTS-4', label: '积分抵扣（500 积分）', amount: '-¥5.00' },
    ]);
    // A kind this release does not know: the server's label as it is.
    expect(discountLabel(d('GIFT_CARD', '礼品卡', 100))).toBe('礼品卡');
    expect(pointsOff({ discounts: all })).toBe(500);
    expect(pointsOff({ discounts: all.slice(0, 4) })).toBe(0);
    expect(pointsOff(undefined)).toBe(0);
  });
});

describe('paying with points', () => {
  const points = (balance: number, usable_points: number, amount_fen: number, points_per_yuan = 100) => ({
    points: { balance, usable_points, amount_fen, points_per_yuan },
  });

  it('asks for points in the bodies only when the switch is on', () => {
    expect(pointsFields(true)).toEqual({ use_points: true });
    expect(pointsFields(false)).toEqual({});
  });

  it('says what the points can pay, and shows the switch on only when asked and usable', () => {
    expect(pointsRow(points(1_234, 500, 500), false)).toEqual({
      text: '可用 500 积分抵 ¥5',
      balance: '共 1234 积分',
      usable: true,
      on: false,
    });
    expect(pointsRow(points(1_234, 500, 500), true)).toMatchObject({ usable: true, on: true });
    // Fewer points than a yuan takes.
    expect(pointsRow(points(80, 0, 0), true)).toEqual({ text: '积分不足', balance: '共 80 积分', usable: false, on: false });
    // Points enough, but half of this basket is below a yuan.
    expect(pointsRow(points(5_000, 0, 0), false)).toMatchObject({ text: '本单暂不可用积分抵扣', usable: false });
    // The shop takes no points: no row.
    expect(pointsRow({ points: null }, true)).toBeNull();
    expect(pointsRow({}, false)).toBeNull();
  });
});

describe('the coupon picker', () => {
  it('shows the server’s best coupon, usable ones first and the rest greyed with their reason', () => {
    const p = couponPicker({ coupons, discounts: [discount('c-pct', '全场8折', 960)], coupon_problem: null }, BEST);
    expect(p).toMatchObject({ shown: true, summary: '全场8折', amount: '-¥9.60', problem: '', noneChosen: false });
    expect(p.options).toEqual([
      { id: 'c-pct', title: '全场8折', amount: '-¥9.60', problem: '', usable: true, chosen: true },
      { id: 'c-3', title: '满10减3', amount: '-¥3.00', problem: '', usable: true, chosen: false },
      { id: 'c-big', title: '满100减20', amount: '', problem: '未达到使用门槛', usable: false, chosen: false },
    ]);
  });

  it('marks the coupon picked, or "不使用优惠券"', () => {
    const picked = couponPicker(
      { coupons, discounts: [discount('c-3', '满10减3', 300)], coupon_problem: null },
      { kind: 'coupon', id: 'c-3' },
    );
    expect(picked).toMatchObject({ summary: '满10减3', amount: '-¥3.00' });
    expect(picked.options.filter((o) => o.chosen).map((o) => o.id)).toEqual(['c-3']);

    const none = couponPicker({ coupons, discounts: [], coupon_problem: null }, { kind: 'none' });
    expect(none).toMatchObject({ shown: true, summary: '不使用优惠券', amount: '', noneChosen: true });
    expect(none.options.some((o) => o.chosen)).toBe(false);
  });

  it('says when no coupon applies to this basket', () => {
    const p = couponPicker({ coupons: [coupons[2]!], discounts: [], coupon_problem: null }, BEST);
    expect(p).toMatchObject({ shown: true, summary: '暂无可用优惠券', amount: '', problem: '' });
  });

  it('says why the coupon picked cannot be used, even once it is gone from the list', () => {
    const below = couponPicker({ coupons, discounts: [], coupon_problem: 'BELOW_THRESHOLD' }, { kind: 'coupon', id: 'c-big' });
    expect(below).toMatchObject({ summary: '满100减20', problem: '所选优惠券未达到使用门槛，请重新选择' });
    // Taken by another order: no longer among the customer's coupons.
    const taken = couponPicker({ coupons: [], discounts: [], coupon_problem: 'COUPON_UNAVAILABLE' }, { kind: 'coupon', id: 'c-3' });
    expect(taken).toMatchObject({ shown: true, summary: '暂无可用优惠券', problem: '所选优惠券已被使用或已过期，请重新选择' });
    expect(couponPicker({ coupons, discounts: [], coupon_problem: 'SOMETHING_NEW' }, { kind: 'coupon', id: 'c-3' }).problem).toBe(
      '所选优惠券暂不可用，请重新选择',
    );
  });

  it('shows nothing for a shop without coupons', () => {
    expect(couponPicker({ coupons: [], discounts: [], coupon_problem: null }, BEST).shown).toBe(false);
  });
});
