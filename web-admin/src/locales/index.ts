// vue-i18n with zh-CN by default and English on request; Element Plus's own texts follow (App.vue).
import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import enUS from './en-US'

export type LocaleName = 'zh-CN' | 'en-US'
export const LOCALES: LocaleName[] = ['zh-CN', 'en-US']

export const i18n = createI18n({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, 'en-US': enUS },
})
