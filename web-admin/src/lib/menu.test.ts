import { describe, expect, it } from 'vitest'
import { create } from '@bufbuild/protobuf'
import { ModuleSchema, type Module } from '@/gen/minimodules/tenant/v1/module_pb'
import type { RouteRecordRaw } from 'vue-router'
import { buildMenu, dependencyHints, findEntry, routeEntries } from './menu'

const mod = (id: string, over: { core?: boolean; dependencies?: string[] } = {}): Module =>
  create(ModuleSchema, {
    id,
    displayNameZh: `${id}-zh`,
    displayNameEn: `${id}-en`,
    adminMenu: [{ path: `/${id}/a`, titleZh: 'A', titleEn: 'A-en', permission: `${id}.read` }],
    ...over,
  })

const specs = [
  mod('tenant', { core: true }),
  mod('identity'),
  mod('catalog'),
  mod('ordering', { dependencies: ['catalog', 'identity'] }),
]
const zh = (z: string) => z

describe('buildMenu', () => {
  it('shows core modules and enabled modules only, in platform order', () => {
    const menu = buildMenu(specs, new Set(['catalog']), () => true, zh)
    expect(menu.map((g) => g.moduleId)).toEqual(['tenant', 'catalog'])
  })

  it('hides entries whose permission the user lacks, and groups left empty', () => {
    const menu = buildMenu(specs, new Set(['catalog', 'identity']), (p) => p !== 'catalog.read', zh)
    expect(menu.map((g) => g.moduleId)).toEqual(['tenant', 'identity'])
  })

  it('titles follow the language', () => {
    const [g] = buildMenu(
      specs,
      new Set(),
      () => true,
      (_z, en) => en,
    )
    expect(g?.title).toBe('tenant-en')
    expect(g?.items[0]?.title).toBe('A-en')
  })
})

describe('entries declared by dashboard routes', () => {
  const page = { template: '<div />' }
  const routes: RouteRecordRaw[] = [
    { path: '/tenant/a', component: page, meta: { module: 'tenant', permission: 'tenant.read' } },
    {
      path: '/tenant/pay',
      component: page,
      meta: { module: 'tenant', roles: ['admin', 'operator'], menu: { title: 'pay', after: '/tenant/a' } },
    },
    { path: '/catalog/x', component: page, meta: { module: 'catalog', menu: { title: 'x' } } },
  ]
  const tenantSpec = create(ModuleSchema, {
    id: 'tenant',
    core: true,
    adminMenu: [
      { path: '/tenant/a', titleZh: 'A', permission: 'tenant.read' },
      { path: '/tenant/b', titleZh: 'B', permission: 'tenant.read' },
    ],
  })
  const title = (k: string) => `t:${k}`

  it('shows a role-limited page to its roles only', () => {
    expect(routeEntries(routes, 'admin', title).map((e) => e.path)).toEqual(['/tenant/pay', '/catalog/x'])
    expect(routeEntries(routes, 'operator', title).map((e) => e.path)).toEqual(['/tenant/pay', '/catalog/x'])
    expect(routeEntries(routes, 'staff', title).map((e) => e.path)).toEqual(['/catalog/x'])
    expect(routeEntries(routes, undefined, title).map((e) => e.path)).toEqual(['/catalog/x'])
  })

  it("places an entry after the one it names, in its module's group, when that module shows", () => {
    const extras = routeEntries(routes, 'admin', title)
    const menu = buildMenu([tenantSpec, mod('catalog')], new Set(), () => true, zh, extras)
    expect(menu.map((g) => g.moduleId)).toEqual(['tenant'])
    expect(menu[0]?.items.map((i) => [i.path, i.title])).toEqual([
      ['/tenant/a', 'A'],
      ['/tenant/pay', 't:pay'],
      ['/tenant/b', 'B'],
    ])
    const on = buildMenu([tenantSpec, mod('catalog')], new Set(['catalog']), () => true, zh, extras)
    expect(on[1]?.items.map((i) => i.path)).toEqual(['/catalog/a', '/catalog/x'])
  })

  it('keeps a group for a role-limited entry when no spec entry is permitted', () => {
    const extras = routeEntries(routes, 'admin', title)
    const menu = buildMenu([tenantSpec], new Set(), () => false, zh, extras)
    expect(menu[0]?.items.map((i) => i.path)).toEqual(['/tenant/pay'])
  })
})

describe('dependencyHints', () => {
  it('names the dependencies still off when enabling', () => {
    expect(dependencyHints(specs, new Set(['catalog']), 'ordering').missing).toEqual(['identity'])
  })

  it('names the modules still depending on one being disabled', () => {
    expect(dependencyHints(specs, new Set(['catalog', 'identity', 'ordering']), 'catalog').dependents).toEqual([
      'ordering',
    ])
  })
})

describe('findEntry', () => {
  it('finds the module declaring a path, enabled or not', () => {
    expect(findEntry(specs, '/ordering/a')?.module.id).toBe('ordering')
    expect(findEntry(specs, '/nope')).toBeUndefined()
  })
})
