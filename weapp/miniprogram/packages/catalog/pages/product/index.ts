/**
 * One product: images, description, and its SKUs with prices. When the shop takes orders, a
 * button leads to the menu.
 */
import * as boot from '../../../../core/boot';
import { describe } from '../../../../core/errors';
import { strings, yuan } from '../../../../core/locale/index';
import { isEnabled, pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import * as catalog from '../../../../services/catalog';

interface SkuRow {
  id: string;
  label: string;
  price: string;
  available: boolean;
}

Component({
  behaviors: [themed],
  data: {
    t: strings.catalog,
    tm: strings.menu,
    error: '',
    product: null as catalog.MenuProduct | null,
    skus: [] as SkuRow[],
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
        const skus = product.skus.map((s) => ({
          id: s.id,
          label: catalog.specLabel(s),
          price: yuan(s.price_fen),
          available: s.available,
        }));
        this.setData({ product, skus, canOrder: isEnabled(boot.config(), 'ordering') });
        wx.setNavigationBarTitle({ title: product.name_zh, fail: () => undefined });
      } catch (e) {
        this.setData({ error: describe(e) });
      }
    },
    onOrder() {
      wx.reLaunch({ url: pageUrl('ordering', 'pages/menu/index') });
    },
  },
});
