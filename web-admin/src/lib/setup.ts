// A new shop's first-day checklist. Each module says what a shop must do before it can serve
// customers with it, in src/modules/<module>/setup.ts (a new module adds its file, no line here),
// and reads each step's state from the server through its own contract: nothing on the list is
// ticked by the dashboard's say-so.
import type { Tenant } from '@/gen/minimodules/tenant/v1/tenant_pb'

/** What a step's check is given. */
export interface SetupContext {
  /** "tenants/{tenant}". */
  tenant: string
  /** The shop's profile, when the user may read it. */
  profile: Tenant | null
  /** Module ids switched on for the shop (core ones included). */
  enabled: ReadonlySet<string>
}

export interface SetupStep {
  /** Stable id, e.g. "identity.wechat" (the e2e tests and data-test attributes use it). */
  id: string
  /** The module whose step it is: shown only while that module is on. */
  module: string
  /** Position on the list, lower first. */
  order: number
  /** Locale keys of the title and of what to do. */
  title: string
  hint: string
  /** The page where it is done. */
  path: string
  /** Whether it is done, read from the server. */
  done: (ctx: SetupContext) => Promise<boolean>
}

export type StepState = 'done' | 'todo' | 'unknown'

/** The steps of the modules that are on, in order. */
export function stepsFor(all: readonly SetupStep[], enabled: ReadonlySet<string>): SetupStep[] {
  return all.filter((s) => enabled.has(s.module)).sort((a, b) => a.order - b.order || a.id.localeCompare(b.id))
}

/** Each step's state; a check that fails (no permission, a network error) is "unknown", not done. */
export async function readStates(steps: readonly SetupStep[], ctx: SetupContext): Promise<Record<string, StepState>> {
  const results = await Promise.allSettled(steps.map((s) => s.done(ctx)))
  return Object.fromEntries(
    steps.map((s, i) => {
      const r = results[i]
      return [s.id, r?.status === 'fulfilled' ? (r.value ? 'done' : 'todo') : 'unknown']
    }),
  )
}

const found = import.meta.glob<{ default: SetupStep[] }>('../modules/*/setup.ts', { eager: true })
/** Every module's steps. */
export const setupSteps: SetupStep[] = Object.values(found).flatMap((m) => m.default)
