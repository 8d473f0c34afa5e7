/**
 * The cart and checkout: lines with quantities, the fulfilment modes the shop offers (dine-in
 * with the table from the QR code, takeaway, delivery with `wx.chooseAddress`), a remark, the
 * payment methods it accepts, and the server's quote — the amounts shown before it are the menu's
 * estimate. When the shop discounts orders (marketing on), the quote also brings the coupon it
 * takes off (the best one, unless the customer picked another or none in the coupon picker) and
 * the discount lines (promotions, member level, coupon, points); a new choice asks for a new
 * quote, and the order is placed with the same choice and the quote's total. A shop that takes
 * points shows a 积分抵扣 switch (off until the customer turns it on): it asks for a quote paying
 * with as many points as the shop allows, and the order is placed the same way. With promotions
 * running, a hint says what more reaches the next full-reduction tier. Submitting places the
 * order (one idempotency key per checkout, so a retry or a second tap cannot order twice), pays
 * it, and opens the order.
 */
import * as auth from '../../../../core/auth';
import * as boot from '../../../../core/boot';
import { newIdempotencyKey } from '../../../../core/client';
import { ApiError, describe } from '../../../../core/errors';
import { format, strings, yuan } from '../../../../core/locale/index';
import { pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import * as catalog from '../../../../services/catalog';
import * as promotions from '../../../../services/promotions';
import * as cartOps from '../../services/cart';
import {
  BEST,
  couponPicker,
  discountLines,
  pointsOff,
  pointsRow,
  type CouponChoice,
  type CouponPicker,
  type DiscountLine,
  type PointsRow,
} from '../../services/discounts';
import * as ordering from '../../services/ordering';

interface LineView extends cartOps.CartLine {
  unit: string;
  total: string;
  available: boolean;
}

interface QuoteView {
  items: string;
  packaging: string;
  discounts: DiscountLine[];
  /** "已优惠 ¥9.60"; empty without a discount. */
  saved: string;
  total: string;
  totalFen: number;
  orderable: boolean;
  problems: string[];
}

const T = strings.checkout;

function lineViews(cart: cartOps.Cart, quote: ordering.Quote | undefined): LineView[] {
  return cart.lines.map((l) => {
    const q = quote?.items.find((i) => i.sku_id === l.skuId);
    const unitFen = q?.unit_price_fen ?? l.unitFen;
    return { ...l, unit: yuan(unitFen), total: yuan(unitFen * l.quantity), available: q?.available ?? true };
  });
}

function quoteView(q: ordering.Quote): QuoteView {
  return {
    items: yuan(q.amounts.items_fen),
    packaging: yuan(q.amounts.packaging_fee_fen),
    discounts: discountLines(q.discounts),
    saved: q.amounts.discount_fen > 0 ? format(T.saved, { amount: yuan(q.amounts.discount_fen) }) : '',
    total: yuan(q.amounts.total_fen),
    totalFen: q.amounts.total_fen,
    orderable: q.orderable,
    problems: q.problems.map((p) =>
      p === 'BELOW_MINIMUM' ? `${T.problems[p]} ${yuan(q.min_order_fen)}` : (T.problems[p] ?? T.problemFallback),
    ),
  };
}

let cart: cartOps.Cart = cartOps.EMPTY;
let lastQuote: ordering.Quote | undefined;
/** One key per checkout: made on the first submit, dropped when the basket or the coupon changes. */
let checkoutKey: string | undefined;
/** The coupon choice the quote shown was asked with; the order is placed with the same. */
let couponChoice: CouponChoice = BEST;
/** Whether the quote shown was asked to pay with points; the order is placed the same way. */
let usePoints = false;
let quoteSeq = 0;
/** The promotions running (for the next-tier hint) and which product is in which category. */
let promos: promotions.Promotion[] = [];
let categories = new Map<string, string>();

/** The cart as the promotions count it: the quote's unit prices once there is one. */
function basketLines(): promotions.BasketLine[] {
  return cart.lines.map((l) => ({
    productId: l.productId,
    categoryId: categories.get(l.productId) ?? '',
    unitFen: lastQuote?.items.find((i) => i.sku_id === l.skuId)?.unit_price_fen ?? l.unitFen,
    quantity: l.quantity,
  }));
}

Component({
  behaviors: [themed],
  data: {
    t: strings.cart,
    tc: T,
    lines: [] as LineView[],
    subtotal: yuan(0),
    modes: [] as { id: string; text: string }[],
    mode: '',
    payments: [] as { id: string; text: string }[],
    payment: '',
    table: '',
    address: null as ordering.Fulfilment['address'],
    remark: '',
    loggedIn: false,
    quoting: false,
    quote: null as QuoteView | null,
    quoteError: '',
    submitting: false,
    /** The coupon row and picker; null (nothing shown) when the quote has no coupons or discounts. */
    coupon: null as CouponPicker | null,
    picking: false,
    /** The 积分抵扣 row; null (nothing shown) when the shop takes no points. */
    points: null as PointsRow | null,
    /** "再买 ¥12 可减 ¥15"; empty without a tier ahead. */
    tierHint: '',
  },
  methods: {
    async onLoad() {
      if (!(await requireModule('ordering'))) return;
      const cfg = ordering.orderingConfig(boot.config());
      const modes = cfg.fulfilmentModes.map((id) => ({ id, text: strings.cart.modes[id] ?? id }));
      const payments = cfg.paymentMethods.map((id) => ({ id, text: strings.cart.payments[id] ?? id }));
      const table = ordering.currentTable() ?? '';
      // A table code means the customer sits in the shop: dine-in first when offered.
      const mode = table && cfg.fulfilmentModes.includes('dine_in') ? 'dine_in' : (modes[0]?.id ?? '');
      this.setData({ modes, mode, payments, payment: payments[0]?.id ?? '', table });
      cart = cartOps.loadCart();
      couponChoice = BEST;
      usePoints = false;
      lastQuote = undefined;
      promos = [];
      await this.requote();
      await this.loadPromotions();
    },
    /** The running promotions, for the next-tier hint (the menu's, when it loaded them). */
    async loadPromotions() {
      if (!this.data.loggedIn) return;
      const loaded = promotions.running(promotions.lastPromotions() ?? (await promotions.loadPromotions()));
      // A full reduction over categories needs to know each line's category: the menu's.
      if (loaded.some((p) => p.kind === promotions.TIERED && p.category_ids.length)) {
        const menu = catalog.lastMenu() ?? (await catalog.getMenu().catch(() => undefined));
        categories = promotions.categoriesOf(menu);
      }
      promos = loaded;
      this.renderHint();
    },
    renderHint() {
      const hint = cart.lines.length ? promotions.nextTier(promos, basketLines()) : undefined;
      this.setData({ tierHint: hint?.text ?? '' });
    },
    onShow() {
      const stored = cartOps.loadCart();
      if (JSON.stringify(stored) !== JSON.stringify(cart)) {
        cart = stored;
        void this.requote();
      }
    },
    fulfilment(): ordering.Fulfilment {
      const d = this.data;
      return {
        mode: d.mode,
        table: d.mode === 'dine_in' && d.table ? d.table : null,
        address: d.mode === 'delivery' ? d.address : null,
      };
    },
    /** Shows the cart at once with menu prices, then the server's quote. */
    async requote() {
      this.setData({ lines: lineViews(cart, undefined), subtotal: yuan(cartOps.subtotal(cart)), loggedIn: !!auth.currentUser() });
      if (!cart.lines.length) {
        this.setData({ quote: null, quoteError: '', coupon: null, points: null, tierHint: '' });
        return;
      }
      if (!(await auth.ensureSession().catch(() => undefined))) {
        this.setData({ loggedIn: false, quote: null, coupon: null, points: null });
        return;
      }
      const seq = ++quoteSeq;
      const choice = couponChoice;
      const withPoints = usePoints;
      this.setData({ loggedIn: true, quoting: true, quoteError: '' });
      try {
        const q = await ordering.quote(cart, this.fulfilment(), choice, withPoints);
        if (seq !== quoteSeq) return;
        lastQuote = q;
        const coupon = couponPicker(q, choice);
        this.setData({
          quoting: false,
          quote: quoteView(q),
          lines: lineViews(cart, q),
          coupon: coupon.shown ? coupon : null,
          points: pointsRow(q, withPoints),
        });
      } catch (e) {
        if (seq !== quoteSeq) return;
        this.setData({ quoting: false, quote: null, coupon: null, points: null, quoteError: describe(e) });
      }
      this.renderHint();
    },
    /** The 积分抵扣 switch: a new quote, and a new checkout (the order's body changes). */
    onPointsSwitch(e: WechatMiniprogram.SwitchChange) {
      const on = !!e.detail.value;
      if (on && !this.data.points?.usable) return;
      if (on === usePoints) return;
      usePoints = on;
      checkoutKey = undefined;
      void this.requote();
    },
    onCouponRow() {
      if (this.data.coupon) this.setData({ picking: true });
    },
    onClosePicker() {
      this.setData({ picking: false });
    },
    /** A new coupon choice: a new quote, and a new checkout (the order's body changes). */
    choose(next: CouponChoice) {
      this.setData({ picking: false });
      couponChoice = next;
      checkoutKey = undefined;
      void this.requote();
    },
    onCouponOption(e: WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>) {
      const option = this.data.coupon?.options.find((o) => o.id === e.currentTarget.dataset.id);
      if (!option) return;
      if (!option.usable) return void wx.showToast({ title: option.problem, icon: 'none' });
      this.choose({ kind: 'coupon', id: option.id });
    },
    onNoCoupon() {
      this.choose({ kind: 'none' });
    },
    change(next: cartOps.Cart) {
      cart = next;
      checkoutKey = undefined;
      cartOps.saveCart(cart);
      void this.requote();
    },
    onMinus(e: WechatMiniprogram.BaseEvent<Record<string, never>, { sku: string; qty: number }>) {
      const { sku, qty } = e.currentTarget.dataset;
      this.change(cartOps.setQuantity(cart, sku, Number(qty) - 1));
    },
    onPlus(e: WechatMiniprogram.BaseEvent<Record<string, never>, { sku: string; qty: number }>) {
      const { sku, qty } = e.currentTarget.dataset;
      this.change(cartOps.setQuantity(cart, sku, Number(qty) + 1));
    },
    onClear() {
      this.change(cartOps.EMPTY);
    },
    onMode(e: WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>) {
      this.setData({ mode: e.currentTarget.dataset.id });
      checkoutKey = undefined;
      void this.requote();
    },
    onPayment(e: WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>) {
      this.setData({ payment: e.currentTarget.dataset.id });
    },
    onScan() {
      wx.scanCode({
        onlyFromCamera: true,
        success: (r) => {
          const query: Record<string, string> = {};
          const path = r.path ?? '';
          for (const part of (path.split('?')[1] ?? r.result ?? '').split('&')) {
            const [k, v] = part.split('=');
            if (k && v) query[k] = v;
          }
          const table = ordering.tableFromQuery(query);
          if (table) {
            ordering.rememberTable(table);
            this.setData({ table });
            void this.requote();
          } else {
            wx.showToast({ title: strings.cart.noTable, icon: 'none' });
          }
        },
      });
    },
    onAddress() {
      wx.chooseAddress({
        success: (a) => {
          this.setData({
            address: {
              contact_name: a.userName,
              phone: a.telNumber,
              region: [a.provinceName, a.cityName, a.countyName].filter(Boolean).join(' '),
              detail: a.detailInfo,
            },
          });
          void this.requote();
        },
        // Closing the picker is a choice, not an error. Refused permission is said, with the
        // way to grant it; anything else (no WeChat address support here, a system error) is
        // said too, so a delivery order never just stays without an address.
        fail: (err: WechatMiniprogram.GeneralCallbackResult) => {
          const msg = err?.errMsg ?? '';
          if (/cancel/i.test(msg)) return;
          if (/auth|deny|denied|scope/i.test(msg)) {
            wx.showModal({
              title: strings.cart.addressDenied,
              content: strings.cart.addressDeniedHint,
              confirmText: strings.cart.openSettings,
              success: (r) => {
                if (r.confirm) wx.openSetting({});
              },
            });
            return;
          }
          wx.showToast({ title: strings.cart.addressFailed, icon: 'none' });
        },
      });
    },
    onRemark(e: WechatMiniprogram.Input) {
      this.setData({ remark: e.detail.value });
    },
    async onLogin() {
      try {
        await auth.login();
        await this.requote();
      } catch (e) {
        wx.showToast({ title: describe(e), icon: 'none' });
      }
    },
    onMenu() {
      wx.reLaunch({ url: pageUrl('ordering', 'pages/menu/index') });
    },
    async onSubmit() {
      const d = this.data;
      // While a new quote is on its way (a new coupon or points choice), the total shown is not
      // the one the order would be placed with: wait for it.
      if (d.submitting || d.quoting || !d.quote || !lastQuote) return;
      if (d.mode === 'dine_in' && !d.table) return void wx.showToast({ title: T.needTable, icon: 'none' });
      if (d.mode === 'delivery' && !d.address) return void wx.showToast({ title: T.needAddress, icon: 'none' });
      if (!d.quote.orderable) return void wx.showToast({ title: d.quote.problems[0] ?? T.problemFallback, icon: 'none' });
      // The coupon picked does not apply (any more): the order would be refused; choose again.
      if (d.coupon?.problem) {
        this.setData({ picking: true });
        return void wx.showToast({ title: d.coupon.problem, icon: 'none' });
      }
      checkoutKey ??= newIdempotencyKey();
      this.setData({ submitting: true });
      let order: ordering.Order;
      try {
        order = await ordering.placeOrder({
          cart,
          fulfilment: this.fulfilment(),
          remark: d.remark.trim(),
          expectedTotalFen: d.quote.totalFen,
          idempotencyKey: checkoutKey,
          coupon: couponChoice,
          usePoints,
        });
      } catch (e) {
        this.setData({ submitting: false });
        if (e instanceof ApiError && e.code === 'PHONE_REQUIRED') {
          // The shop asks for a phone first (its identity setting): bind it on the profile page,
          // then come back; the cart and its key are kept.
          const go = await new Promise<boolean>((resolve) =>
            wx.showModal({
              content: T.phoneRequired,
              confirmText: T.bindPhone,
              success: (r) => resolve(r.confirm),
              fail: () => resolve(false),
            }),
          );
          if (go) wx.navigateTo({ url: pageUrl('identity', 'pages/profile/index') });
          return;
        }
        // The price moved, the coupon picked was taken by another order meanwhile, or the points
        // were spent elsewhere: a new quote shows what stands now (the coupon row says the
        // coupon is gone, the points row what the points can pay now).
        if (e instanceof ApiError && (e.code === 'PRICE_CHANGED' || e.code === 'COUPON_UNAVAILABLE')) {
          const pointsBefore = pointsOff(lastQuote);
          checkoutKey = undefined;
          await this.requote();
          if (e.code === 'PRICE_CHANGED' && usePoints && pointsOff(lastQuote) !== pointsBefore) {
            return void wx.showToast({ title: T.pointsChanged, icon: 'none' });
          }
        }
        wx.showToast({ title: describe(e), icon: 'none' });
        return;
      }
      // The order exists: the cart is done with, whatever happens to the payment.
      checkoutKey = undefined;
      couponChoice = BEST;
      usePoints = false;
      cart = cartOps.EMPTY;
      cartOps.saveCart(cart);
      const detail = `${pageUrl('ordering', 'pages/order/index')}?id=${encodeURIComponent(order.id)}`;
      try {
        const r = await ordering.payOrder(order.id, d.payment);
        if (r.outcome === 'paid') wx.showToast({ title: T.paid, icon: 'success' });
        if (r.outcome === 'cancelled') wx.showToast({ title: T.payCancelled, icon: 'none' });
      } catch (e) {
        wx.showToast({ title: describe(e), icon: 'none' });
      }
      this.setData({ submitting: false });
      wx.redirectTo({ url: detail });
    },
  },
});
