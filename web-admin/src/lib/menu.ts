// The sidebar: every enabled module's admin menu entries the user may see, in the platform's
// module order. Pure, so it is tested without a browser.
import type { RouteRecordRaw } from 'vue-router'
import type { Module } from '@/gen/minimodules/tenant/v1/module_pb'

export interface MenuItem {
  path: string
  title: string
  permission: string
}

/**
 * An entry the dashboard adds to a module's group: a page behind an RPC the services allow by role
 * (WeChat Pay: admins and operators), which a module spec's entry (by permission) cannot say.
 */
export interface ExtraItem extends MenuItem {
  moduleId: string
  /** Placed after the spec's entry with this path; last when absent. */
  after?: string
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
  extras: readonly ExtraItem[] = [],
): MenuGroup[] {
  const groups: MenuGroup[] = []
  for (const m of specs) {
    if (!m.core && !enabled.has(m.id)) continue
    const items: MenuItem[] = m.adminMenu
      .filter((e) => can(e.permission))
      .map((e) => ({ path: e.path, title: pick(e.titleZh, e.titleEn), permission: e.permission }))
    for (const x of extras.filter((e) => e.moduleId === m.id && (!e.permission || can(e.permission)))) {
      const at = items.findIndex((i) => i.path === x.after)
      items.splice(at < 0 ? items.length : at + 1, 0, { path: x.path, title: x.title, permission: x.permission })
    }
    if (items.length) groups.push({ moduleId: m.id, title: pick(m.displayNameZh, m.displayNameEn), items })
  }
  return groups
}

/** Whether a page limited to `roles` (none: anyone) may open for `role`. */
export function roleAllows(roles: readonly string[] | undefined, role: string | undefined): boolean {
  return !roles || (role !== undefined && roles.includes(role))
}

/** The menu entries the dashboard's own routes declare (`meta.menu`) that `role` may open. */
export function routeEntries(
  routes: readonly RouteRecordRaw[],
  role: string | undefined,
  t: (key: string) => string,
): ExtraItem[] {
  return routes.flatMap((r) => {
    const { menu, module, roles, permission } = r.meta ?? {}
    if (!menu || !module || !roleAllows(roles, role)) return []
    return [{ moduleId: module, path: r.path, title: t(menu.title), permission: permission ?? '', after: menu.after }]
  })
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
