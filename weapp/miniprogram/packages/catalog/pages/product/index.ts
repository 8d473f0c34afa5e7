/**
 * One product: images, description, and its SKUs with prices. When the shop takes orders, a
 * button leads to the menu. With marketing on, a price the running promotions lower shows
 * promotional, the list price struck through and the promotion named (list prices when the
 * promotions fail to load).
 */
import * as boot from '../../../../core/boot';
import { describe } from '../../../../core/errors';
import { strings } from '../../../../core/locale/index';
import { isEnabled, pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import * as catalog from '../../../../services/catalog';
import * as promotions from '../../../../services/promotions';

interface SkuRow extends promotions.PriceView {
  id: string;
  label: string;
  available: boolean;
}

function skuRows(product: catalog.MenuProduct, category: string, promos: readonly promotions.Promotion[]): SkuRow[] {
  return product.skus.map((s) => {
    const unit = promotions.unitPrice(promos, product.id, category, s.price_fen);
    return {
      id: s.id,
      label: catalog.specLabel(s),
      ...promotions.priceView(unit.fen, unit.listFen, unit.promotion ? promotions.tag(unit.promotion) : ''),
      available: s.available,
    };
  });
}

Component({
  behaviors: [themed],
  data: {
    t: strings.catalog,
    tm: strings.menu,
    error: '',
    product: null as catalog.MenuProduct | null,
    skus: [] as SkuRow[],
    /** "新品尝鲜 8折": the promotion lowering the price; empty without one. */
    promotion: '',
    canOrder: false,
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      if (!(await requireModule('catalog'))) return;
      try {
        const menu = catalog.lastMenu() ?? (await catalog.getMenu());
        const product = catalog.findProduct(menu, query.id ?? '');
        if (!product) {
          this.setData({ error: strings.errors.notFound });
          return;
        }
        const category = promotions.categoriesOf(menu).get(product.id) ?? '';
        this.setData({ product, skus: skuRows(product, category, []), canOrder: isEnabled(boot.config(), 'ordering') });
        wx.setNavigationBarTitle({ title: product.name_zh, fail: () => undefined });
        // From the product list, its promotions; opened on its own, loaded now (never failing).
        const promos = promotions.running(promotions.lastPromotions() ?? (await promotions.loadPromotions()));
        const price = promotions.productPrice(promos, product, category);
        if (price.tag) this.setData({ skus: skuRows(product, category, promos), promotion: `${price.title} ${price.tag}`.trim() });
      } catch (e) {
        this.setData({ error: describe(e) });
      }
    },
    onOrder() {
      wx.reLaunch({ url: pageUrl('ordering', 'pages/menu/index') });
    },
  },
});
