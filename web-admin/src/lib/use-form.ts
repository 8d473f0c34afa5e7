// What a settings page's form does around its calls: load once on mount (a failure is shown, the
// spinner stops either way), and save with a busy button, a "saved" toast, and the server's field
// errors kept to show beside their fields.
import { onMounted, ref, watch, type Ref } from 'vue'
import { ElMessage } from 'element-plus'
import { i18n } from '@/locales'
import { formErrors, notifyError } from './ui'

/** Runs `load` when the page mounts; true while it runs. */
export function useLoad(load: () => Promise<unknown>) {
  const loading = ref(true)
  onMounted(async () => {
    try {
      await load()
    } catch (e) {
      notifyError(e)
    } finally {
      loading.value = false
    }
  })
  return loading
}

/** `save` runs `run`; a refusal's field errors land in `errors`, keyed below `prefix`. */
export function useSave(prefix: string, run: () => Promise<unknown>) {
  const errors = ref<Record<string, string>>({})
  const saving = ref(false)
  async function save() {
    saving.value = true
    errors.value = {}
    try {
      await run()
      ElMessage.success(i18n.global.t('common.saved'))
    } catch (e) {
      errors.value = formErrors(e, prefix)
    } finally {
      saving.value = false
    }
  }
  return { errors, saving, save }
}

/** "displayNameZh" → "display_name_zh": form keys as the server names the fields. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
}

/**
 * Forgets a field's error (and its sub-fields') as soon as the user edits that field, so an
 * error never stays red beside a value that was fixed. `form` is a reactive object whose keys
 * are the fields (camelCase or as the server names them).
 */
export function clearOnEdit(form: Record<string, unknown>, errors: Ref<Record<string, string>>): void {
  watch(
    () => Object.fromEntries(Object.entries(form).map(([k, v]) => [k, JSON.stringify(v)])),
    (now, before) => {
      for (const key of Object.keys(now)) {
        if (now[key] === before[key]) continue
        const field = snakeCase(key)
        for (const e of Object.keys(errors.value)) {
          if (e === field || e === key || e.startsWith(`${field}.`) || e.startsWith(`${key}.`)) delete errors.value[e]
        }
      }
    },
  )
}
