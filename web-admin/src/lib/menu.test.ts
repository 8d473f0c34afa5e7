import { describe, expect, it } from 'vitest'
import { create } from '@bufbuild/protobuf'
import { ModuleSchema, type Module } from '@/gen/minimodules/tenant/v1/module_pb'
import { buildMenu, dependencyHints, findEntry } from './menu'

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
