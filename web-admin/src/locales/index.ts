// vue-i18n with zh-CN by default and English on request; Element Plus's own texts follow (App.vue).
// The shared words are here (zh-CN.ts, en-US.ts); each module's pages bring their own
// (src/modules/<module>/locale.<language>.ts), merged in below, so a new module's admin pages
// edit no shared locale file.
import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import enUS from './en-US'

export type LocaleName = 'zh-CN' | 'en-US'
export const LOCALES: LocaleName[] = ['zh-CN', 'en-US']

type Messages = { [key: string]: string | Messages }

const zhParts = import.meta.glob<{ default: Messages }>('../modules/*/locale.zh-CN.ts', { eager: true })
const enParts = import.meta.glob<{ default: Messages }>('../modules/*/locale.en-US.ts', { eager: true })

/** `parts` merged into `base` key by key; a module may add to a shared section (e.g. `reasons`). */
export function mergeMessages(base: Messages, parts: Messages[]): Messages {
  const out: Messages = { ...base }
  for (const part of parts) {
    for (const [key, value] of Object.entries(part)) {
      const mine = out[key]
      if (typeof value !== 'string' && mine !== undefined && typeof mine !== 'string') {
        out[key] = mergeMessages(mine, [value])
      } else if (mine !== undefined) {
        throw new Error(`locale key ${key} is defined twice`)
      } else {
        out[key] = value
      }
    }
  }
  return out
}

const of = (found: Record<string, { default: Messages }>) =>
  Object.keys(found)
    .sort()
    .map((k) => found[k]!.default)

export const i18n = createI18n({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: {
    'zh-CN': mergeMessages(zhCN as Messages, of(zhParts)),
    'en-US': mergeMessages(enUS as Messages, of(enParts)),
  },
})
