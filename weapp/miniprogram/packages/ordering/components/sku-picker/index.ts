/**
 * SKU picker: choose one value per spec (values that cannot reach an available SKU are disabled),
 * a quantity, and add. Emits `add` with `{ skuId, quantity }` and `close`.
 */
import { strings, yuan } from '../../../../core/locale/index';
import type { MenuProduct } from '../../../../services/catalog';
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

function view(product: MenuProduct | null, selection: Selection, quantity: number) {
  if (!product) return { groups: [] as GroupView[], skuId: '', price: '', canAdd: false, quantity };
  const groups = specGroups(product).map((g) => ({
    spec: g.spec,
    values: g.values.map((value) => ({
      value,
      selected: selection[g.spec] === value,
      disabled: !canChoose(product, selection, g.spec, value),
    })),
  }));
  const sku = findSku(product, selection);
  return {
    groups,
    skuId: sku?.id ?? '',
    price: yuan((sku ?? product.skus[0])?.price_fen ?? 0),
    canAdd: !!sku?.available,
    quantity,
  };
}

Component({
  // The app's shared classes (mm-btn, mm-price) apply inside: a component is isolated by default.
  options: { styleIsolation: 'apply-shared' },
  properties: {
    product: { type: Object, value: null as unknown as MenuProduct },
  },
  data: {
    t: strings.menu,
    selection: {} as Selection,
    groups: [] as GroupView[],
    skuId: '',
    price: '',
    canAdd: false,
    quantity: 1,
  },
  observers: {
    product(this: WechatMiniprogram.Component.TrivialInstance, product: MenuProduct | null) {
      const selection = product ? initialSelection(product) : {};
      this.setData({ selection, ...view(product, selection, 1) });
    },
  },
  methods: {
    onChoose(e: WechatMiniprogram.BaseEvent<Record<string, never>, { spec: string; value: string; disabled: boolean }>) {
      const { spec, value, disabled } = e.currentTarget.dataset;
      if (disabled) return;
      const product = this.data.product as MenuProduct | null;
      if (!product) return;
      const selection = { ...(this.data.selection as Selection), [spec]: value };
      this.setData({ selection, ...view(product, selection, this.data.quantity) });
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
