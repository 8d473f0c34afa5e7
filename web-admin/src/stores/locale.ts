// The interface language: zh-CN by default, English on request, remembered per browser.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { i18n, type LocaleName, LOCALES } from '@/locales'

const KEY = 'mm.locale'

function initial(): LocaleName {
  const saved = localStorage.getItem(KEY)
  return LOCALES.includes(saved as LocaleName) ? (saved as LocaleName) : 'zh-CN'
}

export const useLocaleStore = defineStore('locale', () => {
  const locale = ref<LocaleName>(initial())
  i18n.global.locale.value = locale.value
  document.documentElement.lang = locale.value

  function set(l: LocaleName) {
    locale.value = l
    i18n.global.locale.value = l
    localStorage.setItem(KEY, l)
    document.documentElement.lang = l
  }

  /** Picks the zh or en variant of a bilingual field pair. */
  function pick(zh: string, en: string): string {
    return locale.value === 'en-US' ? en || zh : zh || en
  }

  return { locale, set, pick }
})
