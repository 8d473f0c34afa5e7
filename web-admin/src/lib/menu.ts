// The sidebar: every enabled module's admin menu entries the user may see, in the platform's
// module order. Pure, so it is tested without a browser.
import type { Module } from '@/gen/minimodules/tenant/v1/module_pb'

export interface MenuItem {
  path: string
  title: string
  permission: string
}

export interface MenuGroup {
  moduleId: string
  title: string
  items: MenuItem[]
}

export function buildMenu(
  specs: readonly Module[],
  enabled: ReadonlySet<string>,
  can: (permission: string) => boolean,
  pick: (zh: string, en: string) => string,
): MenuGroup[] {
  const groups: MenuGroup[] = []
  for (const m of specs) {
    if (!m.core && !enabled.has(m.id)) continue
    const items = m.adminMenu
      .filter((e) => can(e.permission))
      .map((e) => ({ path: e.path, title: pick(e.titleZh, e.titleEn), permission: e.permission }))
    if (items.length) groups.push({ moduleId: m.id, title: pick(m.displayNameZh, m.displayNameEn), items })
  }
  return groups
}

/** The menu entry (and its module) that declares `path`, across every module, enabled or not. */
export function findEntry(specs: readonly Module[], path: string): { module: Module; permission: string } | undefined {
  for (const m of specs) {
    const e = m.adminMenu.find((x) => x.path === path)
    if (e) return { module: m, permission: e.permission }
  }
  return undefined
}

/** For a module being enabled: dependencies not yet on. For one being disabled: dependents still on. */
export function dependencyHints(
  specs: readonly Module[],
  enabled: ReadonlySet<string>,
  id: string,
): { missing: string[]; dependents: string[] } {
  const m = specs.find((x) => x.id === id)
  const missing = (m?.dependencies ?? []).filter((d) => !enabled.has(d))
  const dependents = specs.filter((x) => enabled.has(x.id) && x.dependencies.includes(id)).map((x) => x.id)
  return { missing, dependents }
}
