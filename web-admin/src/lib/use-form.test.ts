import { describe, expect, it } from 'vitest'
import { nextTick, reactive, ref } from 'vue'
import { clearOnEdit } from './use-form'

describe('clearOnEdit', () => {
  it("forgets only the edited field's errors, by its server name too", async () => {
    const form = reactive({ displayNameZh: 'x', slug: 'Bad Slug', skus: [{ price: 1 }] })
    const errors = ref<Record<string, string>>({
      display_name_zh: '必填',
      slug: '格式不正确',
      'skus.0.price': '不能小于 0',
    })
    clearOnEdit(form, errors)
    form.slug = 'good-slug'
    await nextTick()
    expect(errors.value).toEqual({ display_name_zh: '必填', 'skus.0.price': '不能小于 0' })
    form.skus[0]!.price = 2
    await nextTick()
    expect(errors.value).toEqual({ display_name_zh: '必填' })
  })
})
