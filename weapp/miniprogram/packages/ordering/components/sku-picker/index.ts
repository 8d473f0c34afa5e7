/**
 * SKU picker: choose one value per spec (values that cannot reach an available SKU are disabled),
 * a quantity, and add. Emits `add` with `{ skuId, quantity }` and `close`. The price is the
 * chosen SKU's with the running `promotions` (the product being of `category`), the list price
 * struck through when they lower it.
 */
import { strings } from '../../../../core/locale/index';
import type { MenuProduct } from '../../../../services/catalog';
import * as promotions from '../../../../services/promotions';
import { MAX_QUANTITY } from '../../services/cart';
import { canChoose, findSku, initialSelection, specGroups, type Selection } from '../../services/sku';

interface ValueView {
  value: string;
  selected: boolean;
  disabled: boolean;
}
interface GroupView {
  spec: string;
  values: ValueView[];
}

function view(
  product: MenuProduct | null,
  selection: Selection,
  quantity: number,
  promos: readonly promotions.Promotion[] = [],
  category = '',
) {
  if (!product) return { groups: [] as GroupView[], skuId: '', price: '', listPrice: '', tag: '', canAdd: false, quantity };
  const groups = specGroups(product).map((g) => ({
    spec: g.spec,
    values: g.values.map((value) => ({
      value,
      selected: selection[g.spec] === value,
      disabled: !canChoose(product, selection, g.spec, value),
    })),
  }));
  const sku = findSku(product, selection);
  const unit = promotions.unitPrice(promos, product.id, category, (sku ?? product.skus[0])?.price_fen ?? 0);
  return {
    groups,
    skuId: sku?.id ?? '',
    ...promotions.priceView(unit.fen, unit.listFen, unit.promotion ? promotions.tag(unit.promotion) : ''),
    canAdd: !!sku?.available,
    quantity,
  };
}

/** What the observers read of the component's data. */
interface PickerData {
  product: MenuProduct | null;
  category: string;
  promotions: promotions.Promotion[];
  selection: Selection;
  quantity: number;
}

Component({
  // The app's shared classes (mm-btn, mm-price) apply inside: a component is isolated by default.
  options: { styleIsolation: 'apply-shared' },
  properties: {
    product: { type: Object, value: null as unknown as MenuProduct },
    category: { type: String, value: '' },
    promotions: { type: Array, value: [] as promotions.Promotion[] },
  },
  data: {
    t: strings.menu,
    selection: {} as Selection,
    groups: [] as GroupView[],
    skuId: '',
    price: '',
    listPrice: '',
    tag: '',
    canAdd: false,
    quantity: 1,
  },
  observers: {
    product(this: WechatMiniprogram.Component.TrivialInstance, product: MenuProduct | null) {
      const d = this.data as PickerData;
      const selection = product ? initialSelection(product) : {};
      this.setData({ selection, ...view(product, selection, 1, d.promotions, d.category) });
    },
    'promotions, category'(this: WechatMiniprogram.Component.TrivialInstance, promos: promotions.Promotion[], category: string) {
      const d = this.data as PickerData;
      if (d.product) this.setData(view(d.product, d.selection, d.quantity, promos, category));
    },
  },
  methods: {
    onChoose(e: WechatMiniprogram.BaseEvent<Record<string, never>, { spec: string; value: string; disabled: boolean }>) {
      const { spec, value, disabled } = e.currentTarget.dataset;
      if (disabled) return;
      const product = this.data.product as MenuProduct | null;
      if (!product) return;
      const selection = { ...(this.data.selection as Selection), [spec]: value };
      this.setData({ selection, ...view(product, selection, this.data.quantity, this.data.promotions, this.data.category) });
    },
    onMinus() {
      this.setData({ quantity: Math.max(1, this.data.quantity - 1) });
    },
    onPlus() {
      this.setData({ quantity: Math.min(MAX_QUANTITY, this.data.quantity + 1) });
    },
    onAdd() {
      if (!this.data.canAdd) return;
      this.triggerEvent('add', { skuId: this.data.skuId, quantity: this.data.quantity });
    },
    onClose() {
      this.triggerEvent('close', {});
    },
    noop() {},
  },
});
