/**
 * The cart and checkout: lines with quantities, the fulfilment modes the shop offers (dine-in
 * with the table from the QR code, takeaway, delivery with `wx.chooseAddress`), a remark, and
 * the amounts. Prices shown before the server's quote are the menu's estimate.
 */
import * as boot from '../../../../core/boot';
import { strings, yuan } from '../../../../core/locale/index';
import { pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import * as cartOps from '../../services/cart';
import { currentTable, orderingConfig, rememberTable, tableFromQuery, type DeliveryAddress } from '../../services/ordering';

interface LineView extends cartOps.CartLine {
  unit: string;
  total: string;
}

function lineViews(cart: cartOps.Cart): LineView[] {
  return cart.lines.map((l) => ({ ...l, unit: yuan(l.unitFen), total: yuan(l.unitFen * l.quantity) }));
}

let cart: cartOps.Cart = cartOps.EMPTY;

Component({
  behaviors: [themed],
  data: {
    t: strings.cart,
    lines: [] as LineView[],
    subtotal: yuan(0),
    modes: [] as { id: string; text: string }[],
    mode: '',
    table: '',
    address: null as DeliveryAddress | null,
    remark: '',
  },
  methods: {
    async onLoad() {
      if (!(await requireModule('ordering'))) return;
      const cfg = orderingConfig(boot.config());
      const modes = cfg.fulfilmentModes.map((id) => ({ id, text: strings.cart.modes[id] ?? id }));
      const table = currentTable() ?? '';
      // A table code means the customer sits in the shop: dine-in first when offered.
      const mode = table && cfg.fulfilmentModes.includes('dine_in') ? 'dine_in' : (modes[0]?.id ?? '');
      this.setData({ modes, mode, table });
      this.refresh();
    },
    onShow() {
      this.refresh();
    },
    refresh() {
      cart = cartOps.loadCart();
      this.setData({ lines: lineViews(cart), subtotal: yuan(cartOps.subtotal(cart)) });
    },
    change(next: cartOps.Cart) {
      cart = next;
      cartOps.saveCart(cart);
      this.setData({ lines: lineViews(cart), subtotal: yuan(cartOps.subtotal(cart)) });
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
          const table = tableFromQuery(query);
          if (table) {
            rememberTable(table);
            this.setData({ table });
          } else {
            wx.showToast({ title: strings.cart.noTable, icon: 'none' });
          }
        },
      });
    },
    onAddress() {
      wx.chooseAddress({
        success: (a) =>
          this.setData({
            address: {
              contact_name: a.userName,
              phone: a.telNumber,
              region: [a.provinceName, a.cityName, a.countyName].filter(Boolean).join(' '),
              detail: a.detailInfo,
            },
          }),
        fail: () => undefined,
      });
    },
    onRemark(e: WechatMiniprogram.Input) {
      this.setData({ remark: e.detail.value });
    },
    onMenu() {
      wx.reLaunch({ url: pageUrl('ordering', 'pages/menu/index') });
    },
  },
});
