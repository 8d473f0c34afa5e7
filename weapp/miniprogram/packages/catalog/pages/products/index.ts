/**
 * Browse the shop's products by category (the catalog module on its own, e.g. a shop that shows
 * goods without online ordering). Tapping a product opens its detail page. With marketing on,
 * prices the running promotions lower show promotional, the list price struck through; the
 * promotions never hold the page up (list prices when they fail).
 */
import { describe } from '../../../../core/errors';
import { strings } from '../../../../core/locale/index';
import { pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import * as catalog from '../../../../services/catalog';
import * as promotions from '../../../../services/promotions';

interface Row extends promotions.PriceView {
  id: string;
  name: string;
  image: string;
  soldOut: boolean;
}

function sectionsView(menu: catalog.Menu, promos: readonly promotions.Promotion[]): Section[] {
  return menu.sections
    .filter((s) => s.products.length)
    .map((s) => ({
      id: s.id,
      name: s.name_zh,
      products: s.products.map((p) => {
        const range = promotions.productPrice(promos, p, s.id);
        return {
          id: p.id,
          name: p.name_zh,
          image: p.image_urls[0] ?? '',
          ...promotions.priceView(range.min, range.listMin, range.tag),
          soldOut: catalog.soldOut(p),
        };
      }),
    }));
}
interface Section {
  id: string;
  name: string;
  products: Row[];
}

Component({
  behaviors: [themed],
  data: { t: strings.catalog, loading: true, error: '', sections: [] as Section[] },
  methods: {
    async onLoad() {
      if (!(await requireModule('catalog'))) return;
      const running = promotions.loadPromotions().catch(() => [] as promotions.Promotion[]);
      let menu: catalog.Menu;
      try {
        menu = await catalog.getMenu();
        this.setData({ loading: false, sections: sectionsView(menu, []) });
      } catch (e) {
        this.setData({ loading: false, error: describe(e) });
        return;
      }
      const promos = promotions.running(await running);
      if (promos.length) this.setData({ sections: sectionsView(menu, promos) });
    },
    onProduct(e: WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>) {
      wx.navigateTo({ url: `${pageUrl('catalog', 'pages/product/index')}?id=${encodeURIComponent(e.currentTarget.dataset.id)}` });
    },
  },
});
