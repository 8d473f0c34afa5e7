import type { SetupStep } from '@/lib/setup'
import * as api from '@/api/clients'

const steps: SetupStep[] = [
  {
    id: 'booking.services',
    module: 'booking',
    order: 41,
    title: 'setup.services',
    hint: 'setup.servicesHint',
    path: '/booking/services',
    async done({ tenant }) {
      return (await api.booking().listServices({ parent: tenant, pageSize: 1 })).services.length > 0
    },
  },
  {
    id: 'booking.testBooking',
    module: 'booking',
    order: 61,
    title: 'setup.testBooking',
    hint: 'setup.testBookingHint',
    path: '/booking/calendar',
    async done({ tenant }) {
      return (await api.booking().listReservations({ parent: tenant, pageSize: 1 })).reservations.length > 0
    },
  },
]
export default steps
