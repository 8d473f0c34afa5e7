import {
  bannerLines,
  categoriesOf,
  covers,
  nextTier,
  priceView,
  productPrice,
  repriced,
  running,
  subtotal,
  tag,
  tieredOff,
  tierRules,
  unitOff,
  unitPrice,
  type BasketLine,
  type Promotion,
} from '../../miniprogram/services/promotions';
import { menu } from '../support/wx';

function promo(id: string, over: Partial<Promotion> = {}): Promotion {
  return {
    id,
    title_zh: '活动',
    title_en: 'Offer',
    kind: 'percent_off',
    tiers: [],
    percent_off: 0,
    product_ids: [],
    category_ids: [],
    start_time: '2026-12-01T00:00:00Z',
    end_time: '2026-12-31T00:00:00Z',
    ...over,
  };
}

const line = (productId: string, categoryId: string, unitFen: number, quantity: number): BasketLine => ({
  productId,
  categoryId,
  unitFen,
  quantity,
});

/** 满50减5，满100减15 over everything. */
const tiered = promo('t', {
  title_zh: '午市满减',
  kind: 'tiered',
  tiers: [
    { threshold_fen: 5_000, amount_off_fen: 500 },
    { threshold_fen: 10_000, amount_off_fen: 1_500 },
  ],
});

describe('a time-limited discount on the menu (the server’s rule, to the fen)', () => {
  it('takes the percentage off each unit, rounded down', () => {
    expect(unitOff(999, 20)).toBe(199);
    expect(unitOff(2500, 20)).toBe(500);
    expect(unitOff(1, 50)).toBe(0);
    // Out-of-range percentages are clamped, negative prices count as nothing.
    expect(unitOff(1000, 150)).toBe(1000);
    expect(unitOff(-100, 20)).toBe(0);
  });

  it('covers the products named, the products of the categories named, or every product when both are empty', () => {
    expect(covers(promo('a'), 'p', '')).toBe(true);
    expect(covers(promo('a', { product_ids: ['p'] }), 'p', 'c')).toBe(true);
    expect(covers(promo('a', { product_ids: ['p'] }), 'q', 'c')).toBe(false);
    expect(covers(promo('a', { category_ids: ['c'] }), 'q', 'c')).toBe(true);
    // A product whose category is not known is only covered by name.
    expect(covers(promo('a', { category_ids: ['c'] }), 'q', '')).toBe(false);
    expect(covers(promo('a', { product_ids: ['p'], category_ids: ['c'] }), 'q', 'd')).toBe(false);
  });

  it('prices a unit with the largest reduction of those covering it, the first of equal ones', () => {
    // As marketing's own test: 15% on the product, 20% on its category; 999 → 199 off.
    const a = promo('a', { percent_off: 15, product_ids: ['p'] });
    const b = promo('b', { percent_off: 20, category_ids: ['c'] });
    expect(unitPrice([a, b], 'p', 'c', 999)).toEqual({ fen: 800, listFen: 999, promotion: b });
    expect(unitPrice([a, b], 'q', '', 1000)).toEqual({ fen: 1000, listFen: 1000 });
    // 10% and 11% of 5 fen are both nothing: no promotion lowers it.
    expect(unitPrice([promo('x', { percent_off: 10 }), promo('y', { percent_off: 11 })], 'p', '', 5)).toEqual({ fen: 5, listFen: 5 });
    // Equal reductions: the first listed.
    const c = promo('c', { percent_off: 20 });
    const d = promo('d', { percent_off: 20 });
    expect(unitPrice([c, d], 'p', '', 1000).promotion).toBe(c);
    // A full reduction changes no unit price.
    expect(unitPrice([tiered], 'p', '', 1000)).toEqual({ fen: 1000, listFen: 1000 });
  });

  it('reads as 折', () => {
    expect([tag({ percent_off: 20 }), tag({ percent_off: 15 }), tag({ percent_off: 5 })]).toEqual(['8折', '8.5折', '9.5折']);
  });

  it('prices a product from its cheapest available SKU, with the list price to strike through', () => {
    const latte = menu().sections[0].products[0]; // 中杯 25, 大杯 28, 大杯冰 28 (sold out)
    const p = promo('p', { percent_off: 20, product_ids: ['p-latte'], title_zh: '新品尝鲜' });
    expect(productPrice([p], latte, 'c1')).toEqual({ min: 2000, max: 2240, listMin: 2500, tag: '8折', title: '新品尝鲜' });
    expect(productPrice([], latte, 'c1')).toEqual({ min: 2500, max: 2800, listMin: 2500, tag: '', title: '' });
    expect(priceView(2000, 2500, '8折')).toEqual({ price: '¥20.00', listPrice: '¥25.00', tag: '8折' });
    expect(priceView(2500, 2500, '8折')).toEqual({ price: '¥25.00', listPrice: '', tag: '' });
  });

  it('knows a product’s category from the menu’s sections', () => {
    expect([...categoriesOf(menu())]).toEqual([
      ['p-latte', 'c1'],
      ['p-water', 'c1'],
      ['p-cake', 'c2'],
    ]);
    expect(categoriesOf(undefined).size).toBe(0);
  });

  it('leaves out promotions that have ended since they were loaded', () => {
    const now = Date.parse('2026-12-10T00:00:00Z');
    const ended = promo('e', { end_time: '2026-12-09T00:00:00Z' });
    expect(running([promo('a'), ended], now).map((p) => p.id)).toEqual(['a']);
  });
});

describe('a full reduction in tiers', () => {
  it('takes the highest tier reached, counted after the unit discounts', () => {
    expect(tieredOff([tiered], [line('p', '', 10_000, 1)])).toBe(1_500);
    const half = promo('h', { percent_off: 50 });
    // 5,000 after the unit discount: the first tier only.
    expect(repriced([tiered, half], [line('p', '', 10_000, 1)])[0]!.unitFen).toBe(5_000);
    expect(tieredOff([tiered, half], [line('p', '', 10_000, 1)])).toBe(500);
    expect(tieredOff([tiered], [line('p', '', 4_999, 1)])).toBe(0);
    // The menu's cart bar: the unit discounts, not the full reduction.
    expect(subtotal([tiered, half], [line('p', '', 10_000, 1), line('q', '', 300, 2)])).toBe(5_300);
  });

  it('counts only the lines in its scope', () => {
    const coffee = { ...tiered, category_ids: ['c1'] };
    const lines = [line('p-latte', 'c1', 2_500, 2), line('p-cake', 'c2', 3_200, 1)];
    expect(tieredOff([coffee], lines)).toBe(500);
    expect(nextTier([coffee], lines)?.text).toBe('再买 ¥50 可减 ¥15');
  });

  it('reads as its tiers, and each promotion as a banner line', () => {
    expect(tierRules(tiered.tiers)).toBe('满50减5，满100减15');
    expect(tierRules([{ threshold_fen: 3_050, amount_off_fen: 505 }])).toBe('满30.5减5.05');
    expect(
      bannerLines([
        tiered,
        promo('all', { title_zh: '周末特惠', percent_off: 20 }),
        promo('some', { title_zh: '新品尝鲜', percent_off: 15, product_ids: ['p'] }),
        promo('empty', { kind: 'tiered', tiers: [] }),
        promo('unknown', { kind: 'bundle' }),
      ]),
    ).toEqual(['午市满减：满50减5，满100减15', '周末特惠：全场8折', '新品尝鲜：指定商品8.5折']);
  });
});

describe('the cart’s hint of the next tier', () => {
  it('says what more reaches the next tier, and nothing at the top', () => {
    expect(nextTier([tiered], [line('p', '', 1_900, 2)])).toEqual({ gapFen: 1_200, offFen: 500, text: '再买 ¥12 可减 ¥5' });
    // 满50减5 reached: the next one.
    expect(nextTier([tiered], [line('p', '', 8_800, 1)])).toEqual({ gapFen: 1_200, offFen: 1_500, text: '再买 ¥12 可减 ¥15' });
    expect(nextTier([tiered], [line('p', '', 10_000, 1)])).toBeUndefined();
    expect(nextTier([promo('a', { percent_off: 20 })], [line('p', '', 1_000, 1)])).toBeUndefined();
    expect(nextTier([], [line('p', '', 1_000, 1)])).toBeUndefined();
  });

  it('counts the basket after the unit discounts', () => {
    // ¥60 less 20% is ¥48: ¥2 more reaches 满50减5.
    const eight = promo('e', { percent_off: 20 });
    expect(nextTier([tiered, eight], [line('p', '', 6_000, 1)])?.text).toBe('再买 ¥2 可减 ¥5');
  });

  it('of several promotions, names the nearest tier that takes more than the basket gets now', () => {
    const small = promo('s', {
      kind: 'tiered',
      tiers: [
        { threshold_fen: 3_000, amount_off_fen: 300 },
        { threshold_fen: 6_000, amount_off_fen: 400 },
      ],
    });
    // ¥40: small gives ¥3 now; its ¥60 tier (¥4) is ¥20 away, tiered's ¥50 tier (¥5) ¥10 away.
    expect(nextTier([small, tiered], [line('p', '', 4_000, 1)])?.text).toBe('再买 ¥10 可减 ¥5');
    // ¥25: small's ¥30 tier is nearest.
    expect(nextTier([small, tiered], [line('p', '', 2_500, 1)])?.text).toBe('再买 ¥5 可减 ¥3');
    // A tier taking no more than the basket gets already is no reason to buy more.
    const weak = promo('w', { kind: 'tiered', tiers: [{ threshold_fen: 9_000, amount_off_fen: 500 }] });
    expect(nextTier([weak, tiered], [line('p', '', 8_800, 1)])?.text).toBe('再买 ¥12 可减 ¥15');
    // Equal gaps: the one taking more.
    const other = promo('o', { kind: 'tiered', tiers: [{ threshold_fen: 5_000, amount_off_fen: 800 }] });
    expect(nextTier([tiered, other], [line('p', '', 4_000, 1)])?.text).toBe('再买 ¥10 可减 ¥8');
  });
});
