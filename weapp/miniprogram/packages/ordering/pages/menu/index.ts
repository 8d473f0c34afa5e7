/**
 * The menu: a category rail beside the products, a search box, the SKU picker, and the cart bar.
 * Opened from a table's QR code it remembers the table for dine-in. The cart is reconciled with
 * every menu it loads (sold-out or removed SKUs leave, prices follow the menu). When the shop has
 * marketing on, the promotions running show too: a banner of them, and each price they lower
 * with the list price struck through and a "8折" tag (the server's rule, so the quote agrees);
 * the cart bar counts those prices. Promotions load beside the menu and never hold it up: when
 * they fail, prices are list prices.
 */
import { describe } from '../../../../core/errors';
import { strings, yuan } from '../../../../core/locale/index';
import { pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import * as catalog from '../../../../services/catalog';
import * as promotions from '../../../../services/promotions';
import * as cartOps from '../../services/cart';
import { rememberTable, tableFromQuery, currentTable } from '../../services/ordering';

interface ProductView extends promotions.PriceView {
  id: string;
  name: string;
  description: string;
  image: string;
  from: boolean;
  soldOut: boolean;
  inCart: number;
}
interface SectionView {
  id: string;
  name: string;
  products: ProductView[];
}

function productView(p: catalog.MenuProduct, cart: cartOps.Cart, promos: readonly promotions.Promotion[], categoryId: string): ProductView {
  const range = promotions.productPrice(promos, p, categoryId);
  return {
    id: p.id,
    name: p.name_zh,
    description: p.description,
    image: p.image_urls[0] ?? '',
    ...promotions.priceView(range.min, range.listMin, range.tag),
    from: range.max > range.min,
    soldOut: catalog.soldOut(p),
    inCart: cartOps.quantityOfProduct(cart, p.id),
  };
}

function sectionsView(menu: catalog.Menu | undefined, cart: cartOps.Cart, promos: readonly promotions.Promotion[]): SectionView[] {
  return (menu?.sections ?? [])
    .filter((s) => s.products.length > 0)
    .map((s) => ({ id: s.id, name: s.name_zh, products: s.products.map((p) => productView(p, cart, promos, s.id)) }));
}

let menu: catalog.Menu | undefined;
let cart: cartOps.Cart = cartOps.EMPTY;
/** The promotions running, and which product is in which category (the menu's sections). */
let promos: promotions.Promotion[] = [];
let categories = new Map<string, string>();

/** The cart's lines as the promotions count them. */
function basketLines(c: cartOps.Cart): promotions.BasketLine[] {
  return c.lines.map((l) => ({
    productId: l.productId,
    categoryId: categories.get(l.productId) ?? '',
    unitFen: l.unitFen,
    quantity: l.quantity,
  }));
}

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
    /** The picked product's category, for the picker's promotional price. */
    pickingCategory: '',
    /** The promotions running, for the picker. */
    promotions: [] as promotions.Promotion[],
    /** "午市满减：满50减5，满100减15", "新品尝鲜：指定商品8折". */
    banner: [] as string[],
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
      // Beside the menu, never in its way: no promotions (list prices) when they fail.
      const running = promotions.loadPromotions().catch(() => [] as promotions.Promotion[]);
      try {
        menu = await catalog.getMenu();
        categories = promotions.categoriesOf(menu);
        const r = cartOps.reconcile(cartOps.loadCart(), menu);
        cart = r.cart;
        cartOps.saveCart(cart);
        if (r.removed.length) wx.showToast({ title: `${r.removed[0]!.name} ${strings.menu.unavailable}`, icon: 'none' });
        this.render();
        this.setData({ loading: false, activeSection: this.data.sections[0]?.id ?? '' });
      } catch (e) {
        this.setData({ loading: false, error: describe(e) });
      }
      promos = promotions.running(await running);
      this.setData({ promotions: promos, banner: promotions.bannerLines(promos) });
      if (menu) this.render();
    },
    render() {
      const sections = sectionsView(menu, cart, promos);
      const results =
        menu && this.data.keyword
          ? catalog.search(menu, this.data.keyword).map((p) => productView(p, cart, promos, categories.get(p.id) ?? ''))
          : [];
      this.setData({
        sections,
        results,
        cartCount: cartOps.count(cart),
        cartTotal: yuan(promotions.subtotal(promos, basketLines(cart))),
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
        this.setData({ picking: p, pickingCategory: categories.get(p.id) ?? '' });
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
