// What a settings page's form does around its calls: load once on mount (a failure is shown, the
// spinner stops either way), and save with a busy button, a "saved" toast, and the server's field
// errors kept to show beside their fields.
import { onMounted, ref } from 'vue'
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
