// Generated service clients over the shared transport. Views and stores call these; nothing else
// builds requests by hand.
import { createClient, type Client } from '@connectrpc/connect'
import type { DescService } from '@bufbuild/protobuf'
import { AuthService } from '@/gen/minimodules/identity/v1/auth_service_pb'
import { UserService } from '@/gen/minimodules/identity/v1/user_service_pb'
import { TenantService } from '@/gen/minimodules/tenant/v1/tenant_service_pb'
import { ModuleService } from '@/gen/minimodules/tenant/v1/module_service_pb'
import { CatalogService } from '@/gen/minimodules/catalog/v1/catalog_service_pb'
import { OrderService } from '@/gen/minimodules/ordering/v1/order_service_pb'
import { BookingService } from '@/gen/minimodules/booking/v1/booking_service_pb'
import { getTransport } from './transport'

const cache = new Map<DescService, unknown>()

/** A client of `service` over the dashboard's transport. */
export function client<S extends DescService>(service: S): Client<S> {
  let c = cache.get(service) as Client<S> | undefined
  if (!c) {
    c = createClient(service, getTransport())
    cache.set(service, c)
  }
  return c
}

/** Forgets clients, for tests that swap the transport. */
export function resetClients(): void {
  cache.clear()
}

export const auth = () => client(AuthService)
export const users = () => client(UserService)
export const tenants = () => client(TenantService)
export const modules = () => client(ModuleService)
export const catalog = () => client(CatalogService)
export const ordering = () => client(OrderService)
export const booking = () => client(BookingService)
