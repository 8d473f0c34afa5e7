// What the walk-in booking and the reschedule form share: a chosen slot, the save that books or
// moves into it (a missing slot is reported beside the slot field, the server's field errors
// beside theirs), and closing the dialog once the server has said yes.
import { ref, type Ref } from 'vue'
import { ElMessage } from 'element-plus'
import type { Reservation, Slot } from '@/gen/minimodules/booking/v1/booking_pb'
import { i18n } from '@/locales'
import { formErrors } from '@/lib/ui'

export function useSlotForm(
  open: Ref<boolean>,
  submit: (slot: Slot) => Promise<Reservation | undefined>,
  done: (r: Reservation) => { message: string },
) {
  const slot = ref<Slot | null>(null)
  const errors = ref<Record<string, string>>({})
  const saving = ref(false)

  async function save() {
    errors.value = {}
    if (!slot.value) {
      errors.value = { start_time: i18n.global.t('booking.manual.pickSlot') }
      return
    }
    saving.value = true
    try {
      const r = await submit(slot.value)
      if (r) ElMessage.success(done(r).message)
      open.value = false
    } catch (e) {
      errors.value = formErrors(e)
    } finally {
      saving.value = false
    }
  }

  return { slot, errors, saving, save }
}
