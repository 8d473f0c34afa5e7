// Small helpers every view uses: error messages, destructive-action confirmation, money.
import { ElMessage, ElMessageBox } from 'element-plus'
import { errorKey, fieldErrors, rawMessage } from '@/api/errors'
import { i18n } from '@/locales'
import { reasonMessage } from './reasons'

const t = (k: string, v?: Record<string, unknown>) => (v ? i18n.global.t(k, v) : i18n.global.t(k))

/**
 * A failed call in the user's language: its reason's message (lib/reasons.ts), else one for its
 * gRPC code (no connection, session over, no permission...), else the server's own message.
 */
export function messageOf(err: unknown): string {
  const reason = reasonMessage(err, i18n.global)
  if (reason) return reason
  const key = errorKey(err)
  return key ? t(key) : rawMessage(err)
}

export function notifyError(err: unknown): void {
  ElMessage.error({ message: messageOf(err), grouping: true })
}

/**
 * A failed save: its field errors (to show beside their fields, keyed below `prefix`) with a
 * "fix the red fields" toast, or, without any, the error's message alone.
 */
export function formErrors(err: unknown, prefix = ''): Record<string, string> {
  const fields = fieldErrors(err, prefix)
  if (Object.keys(fields).length) ElMessage.error(t('errors.fixFields'))
  else notifyError(err)
  return fields
}

/** Asks before a destructive action; true when the user confirms. */
export async function confirmDanger(message: string, action: string): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, t('common.confirmTitle'), {
      type: 'warning',
      confirmButtonText: action,
      cancelButtonText: t('common.cancel'),
      confirmButtonClass: 'el-button--danger',
    })
    return true
  } catch {
    return false
  }
}

/** Asks, then deletes: true once `remove` has succeeded (with a toast); a failure is shown. */
export async function deleteConfirmed(message: string, remove: () => Promise<unknown>): Promise<boolean> {
  if (!(await confirmDanger(message, t('common.delete')))) return false
  try {
    await remove()
    ElMessage.success(t('common.deleted'))
    return true
  } catch (e) {
    notifyError(e)
    return false
  }
}

export { toFen, yuan } from './money'

/** The id at the end of a resource name: "tenants/a/products/b" → "b". */
export function lastId(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1)
}

export function formatTime(ts: { seconds: bigint } | undefined, locale: string): string {
  if (!ts) return ''
  return new Date(Number(ts.seconds) * 1000).toLocaleString(locale)
}
