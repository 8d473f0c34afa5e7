/**
 * SKU selection for the picker: spec groups in menu order, which values can still lead to an
 * available SKU, and the SKU a full selection names. Pure, no wx.
 */
import type { MenuProduct, Sku } from '../../../services/catalog';

export interface SpecGroup {
  spec: string;
  values: string[];
}

export type Selection = Record<string, string>;

/** Spec names and their values, in the order the SKUs list them. */
export function specGroups(p: MenuProduct): SpecGroup[] {
  const groups: SpecGroup[] = [];
  for (const sku of p.skus) {
    for (const { spec, value } of sku.specs) {
      let g = groups.find((x) => x.spec === spec);
      if (!g) {
        g = { spec, values: [] };
        groups.push(g);
      }
      if (!g.values.includes(value)) g.values.push(value);
    }
  }
  return groups;
}

function matches(sku: Sku, selection: Selection): boolean {
  return Object.entries(selection).every(([spec, value]) => sku.specs.some((s) => s.spec === spec && s.value === value));
}

/** The SKU the selection names, once every spec has a value. */
export function findSku(p: MenuProduct, selection: Selection): Sku | undefined {
  const groups = specGroups(p);
  if (groups.some((g) => !(g.spec in selection))) return groups.length === 0 ? p.skus[0] : undefined;
  return p.skus.find((s) => s.specs.length === groups.length && matches(s, selection));
}

/** Whether choosing `value` for `spec` (keeping the other choices) can reach an available SKU. */
export function canChoose(p: MenuProduct, selection: Selection, spec: string, value: string): boolean {
  const next = { ...selection, [spec]: value };
  return p.skus.some((s) => s.available && matches(s, next));
}

/** A starting selection: the first available SKU's values (nothing when all are sold out). */
export function initialSelection(p: MenuProduct): Selection {
  const sku = p.skus.find((s) => s.available);
  const out: Selection = {};
  for (const { spec, value } of sku?.specs ?? []) out[spec] = value;
  return out;
}
