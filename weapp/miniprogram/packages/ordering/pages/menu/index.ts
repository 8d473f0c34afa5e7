/**
 * The menu: a category rail beside the products, a search box, the SKU picker, and the cart bar.
 * Opened from a table's QR code it remembers the table for dine-in. The cart is reconciled with
 * every menu it loads (sold-out or removed SKUs leave, prices follow the menu).
 */
import { describe } from '../../../../core/errors';
import { strings, yuan } from '../../../../core/locale/index';
import { pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import * as catalog from '../../../../services/catalog';
import * as cartOps from '../../services/cart';
import { rememberTable, tableFromQuery, currentTable } from '../../services/ordering';

interface ProductView {
  id: string;
  name: string;
  description: string;
  image: string;
  price: string;
  from: boolean;
  soldOut: boolean;
  inCart: number;
}
interface SectionView {
  id: string;
  name: string;
  products: ProductView[];
}

function productView(p: catalog.MenuProduct, cart: cartOps.Cart): ProductView {
  const range = catalog.priceRange(p);
  return {
    id: p.id,
    name: p.name_zh,
    description: p.description,
    image: p.image_urls[0] ?? '',
    price: yuan(range.min),
    from: range.max > range.min,
    soldOut: catalog.soldOut(p),
    inCart: cartOps.quantityOfProduct(cart, p.id),
  };
}

function sectionsView(menu: catalog.Menu | undefined, cart: cartOps.Cart): SectionView[] {
  return (menu?.sections ?? [])
    .filter((s) => s.products.length > 0)
    .map((s) => ({ id: s.id, name: s.name_zh, products: s.products.map((p) => productView(p, cart)) }));
}

let menu: catalog.Menu | undefined;
let cart: cartOps.Cart = cartOps.EMPTY;

Component({
  behaviors: [themed],
  data: {
    t: strings.menu,
    tc: strings.catalog,
    self: pageUrl('ordering', 'pages/menu/index'),
    loading: true,
    error: '',
    sections: [] as SectionView[],
    activeSection: '',
    scrollInto: '',
    keyword: '',
    results: [] as ProductView[],
    picking: null as catalog.MenuProduct | null,
    table: '',
    cartCount: 0,
    cartTotal: yuan(0),
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      if (!(await requireModule('ordering'))) return;
      rememberTable(tableFromQuery(query));
      this.setData({ table: currentTable() ?? '' });
      await this.load();
    },
    onShow() {
      // Back from the cart page: quantities may have changed there.
      cart = cartOps.loadCart();
      if (menu) this.render();
    },
    async load() {
      this.setData({ loading: true, error: '' });
      try {
        menu = await catalog.getMenu();
        const r = cartOps.reconcile(cartOps.loadCart(), menu);
        cart = r.cart;
        cartOps.saveCart(cart);
        if (r.removed.length) wx.showToast({ title: `${r.removed[0]!.name} ${strings.menu.unavailable}`, icon: 'none' });
        this.render();
        this.setData({ loading: false, activeSection: this.data.sections[0]?.id ?? '' });
      } catch (e) {
        this.setData({ loading: false, error: describe(e) });
      }
    },
    render() {
      const sections = sectionsView(menu, cart);
      const results = menu && this.data.keyword ? catalog.search(menu, this.data.keyword).map((p) => productView(p, cart)) : [];
      this.setData({
        sections,
        results,
        cartCount: cartOps.count(cart),
        cartTotal: yuan(cartOps.subtotal(cart)),
      });
    },
    onSection(e: WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>) {
      const id = e.currentTarget.dataset.id;
      this.setData({ activeSection: id, scrollInto: `section-${id}` });
    },
    onSearch(e: WechatMiniprogram.Input) {
      this.setData({ keyword: e.detail.value });
      this.render();
    },
    onClearSearch() {
      this.setData({ keyword: '' });
      this.render();
    },
    onProduct(e: WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>) {
      const p = menu && catalog.findProduct(menu, e.currentTarget.dataset.id);
      if (!p || catalog.soldOut(p)) return;
      if (catalog.needsPicker(p)) {
        this.setData({ picking: p });
        return;
      }
      this.addSku(p, p.skus[0]!.id, 1);
    },
    onPicked(e: WechatMiniprogram.CustomEvent<{ skuId: string; quantity: number }>) {
      const p = this.data.picking as catalog.MenuProduct | null;
      if (p) this.addSku(p, e.detail.skuId, e.detail.quantity);
      this.setData({ picking: null });
    },
    onPickerClose() {
      this.setData({ picking: null });
    },
    addSku(p: catalog.MenuProduct, skuId: string, quantity: number) {
      const sku = p.skus.find((s) => s.id === skuId);
      if (!sku || !sku.available) return;
      cart = cartOps.add(cart, p, sku, quantity);
      cartOps.saveCart(cart);
      this.render();
    },
    onCheckout() {
      if (cartOps.count(cart) === 0) {
        wx.showToast({ title: strings.menu.emptyCart, icon: 'none' });
        return;
      }
      wx.navigateTo({ url: pageUrl('ordering', 'pages/cart/index') });
    },
    async onPullDownRefresh() {
      await this.load();
      wx.stopPullDownRefresh();
    },
  },
});
