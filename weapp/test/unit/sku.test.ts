import { canChoose, findSku, initialSelection, specGroups } from '../../miniprogram/packages/ordering/services/sku';
import { menu } from '../support/wx';

const latte = menu().sections[0].products[0];
const water = menu().sections[0].products[1];

describe('SKU picker logic', () => {
  it('groups spec values in menu order', () => {
    expect(specGroups(latte)).toEqual([
      { spec: '杯型', values: ['中杯', '大杯'] },
      { spec: '温度', values: ['热', '冰'] },
    ]);
    expect(specGroups(water)).toEqual([]);
  });

  it('starts from the first available SKU', () => {
    expect(initialSelection(latte)).toEqual({ 杯型: '中杯', 温度: '热' });
  });

  it('disables a value that cannot reach an available SKU with the other choices', () => {
    const sel = { 杯型: '大杯', 温度: '热' };
    expect(canChoose(latte, sel, '温度', '冰')).toBe(false);
    expect(canChoose(latte, sel, '杯型', '中杯')).toBe(true);
  });

  it('names the SKU once every spec has a value', () => {
    expect(findSku(latte, { 杯型: '大杯', 温度: '热' })?.id).toBe('s-latte-l-hot');
    expect(findSku(latte, { 杯型: '大杯' })).toBeUndefined();
    expect(findSku(water, {})?.id).toBe('s-water');
  });
});
