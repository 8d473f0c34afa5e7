/**
 * Browse the shop's products by category (the catalog module on its own, e.g. a shop that shows
 * goods without online ordering). Tapping a product opens its detail page.
 */
import { describe } from '../../../../core/errors';
import { strings, yuan } from '../../../../core/locale/index';
import { pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import * as catalog from '../../../../services/catalog';

interface Row {
  id: string;
  name: string;
  image: string;
  price: string;
  soldOut: boolean;
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
      try {
        const menu = await catalog.getMenu();
        const sections = menu.sections
          .filter((s) => s.products.length)
          .map((s) => ({
            id: s.id,
            name: s.name_zh,
            products: s.products.map((p) => ({
              id: p.id,
              name: p.name_zh,
              image: p.image_urls[0] ?? '',
              price: yuan(catalog.priceRange(p).min),
              soldOut: catalog.soldOut(p),
            })),
          }));
        this.setData({ loading: false, sections });
      } catch (e) {
        this.setData({ loading: false, error: describe(e) });
      }
    },
    onProduct(e: WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>) {
      wx.navigateTo({ url: `${pageUrl('catalog', 'pages/product/index')}?id=${encodeURIComponent(e.currentTarget.dataset.id)}` });
    },
  },
});
