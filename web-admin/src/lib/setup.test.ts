import { describe, expect, it } from 'vitest'
import { readStates, setupSteps, stepsFor, type SetupStep } from './setup'
import zh from '@/locales/zh-CN'
import en from '@/locales/en-US'

const step = (id: string, module: string, order: number, done: SetupStep['done']): SetupStep => ({
  id,
  module,
  order,
  title: 't',
  hint: 'h',
  path: '/',
  done,
})

function lookup(messages: object, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], messages)
}

describe('first-day checklist', () => {
  it('lists the steps of the modules that are on, in order', () => {
    const all = [
      step('b', 'booking', 41, async () => true),
      step('a', 'identity', 10, async () => true),
      step('c', 'catalog', 40, async () => true),
    ]
    expect(stepsFor(all, new Set(['identity', 'booking'])).map((s) => s.id)).toEqual(['a', 'b'])
  })

  it('takes each state from its check; a failed check is unknown, never done', async () => {
    const ctx = { tenant: 'tenants/t1', profile: null, enabled: new Set<string>() }
    const states = await readStates(
      [
        step('yes', 'x', 1, async () => true),
        step('no', 'x', 2, async () => false),
        step('denied', 'x', 3, async () => {
          throw new Error('permission denied')
        }),
      ],
      ctx,
    )
    expect(states).toEqual({ yes: 'done', no: 'todo', denied: 'unknown' })
  })

  it('every module that serves customers has steps, worded in both languages', () => {
    const modules = new Set(setupSteps.map((s) => s.module))
    for (const m of ['identity', 'tenant', 'catalog', 'ordering', 'booking']) expect(modules).toContain(m)
    expect(new Set(setupSteps.map((s) => s.id)).size).toBe(setupSteps.length)
    for (const s of setupSteps) {
      for (const key of [s.title, s.hint]) {
        expect(typeof lookup(zh, key), `${key} in zh-CN`).toBe('string')
        expect(typeof lookup(en, key), `${key} in en-US`).toBe('string')
      }
    }
  })
})
