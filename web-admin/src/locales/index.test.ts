// Each module's words are merged into the shared ones: both languages see every module's
// section, a module adds to a shared section (reasons), and a key two files define is refused.
import { describe, expect, it } from 'vitest'
import { i18n, mergeMessages } from '.'

describe('locale merging', () => {
  it('gives both languages every module section and its refusal wording', () => {
    for (const locale of ['zh-CN', 'en-US'] as const) {
      const m = i18n.global.getLocaleMessage(locale) as Record<string, Record<string, unknown>>
      for (const module of ['catalog', 'identity', 'ordering', 'booking']) {
        expect(m[module], `${locale} ${module}`).toBeTypeOf('object')
      }
      expect(m.reasons?.booking).toBeTypeOf('object')
      expect(m.reasons?.common).toBeTypeOf('object')
    }
    i18n.global.locale.value = 'zh-CN'
    expect(i18n.global.t('reasons.booking.SLOT_FULL')).toBe('该时段已约满，请选择其他时段')
  })

  it('adds to shared sections and refuses a key defined twice', () => {
    const merged = mergeMessages({ reasons: { common: { A: 'a' } } }, [{ reasons: { shop: { B: 'b' } } }])
    expect(merged).toEqual({ reasons: { common: { A: 'a' }, shop: { B: 'b' } } })
    expect(() => mergeMessages({ x: { y: 'one' } }, [{ x: { y: 'two' } }])).toThrow(/defined twice/)
  })
})
