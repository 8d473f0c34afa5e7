import type { SetupStep } from '@/lib/setup'
import { Role } from '@/gen/minimodules/common/v1/access_pb'
import * as api from '@/api/clients'

async function hasUser(tenant: string, role: Role): Promise<boolean> {
  const res = await api.users().listUsers({ parent: tenant, pageSize: 1, role })
  return res.users.length > 0
}

const steps: SetupStep[] = [
  {
    id: 'identity.wechat',
    module: 'identity',
    order: 10,
    title: 'setup.wechat',
    hint: 'setup.wechatHint',
    path: '/tenant/profile',
    // Customers log in only when the AppSecret is stored for the shop's own AppID.
    async done({ tenant, profile }) {
      const res = await api.users().getWechatCredentials({ name: `${tenant}/wechatCredentials` })
      const c = res.wechatCredentials
      return !!c?.appSecretSet && !!c.wechatAppid && (!profile || c.wechatAppid === profile.wechatAppid)
    },
  },
  {
    id: 'identity.accounts',
    module: 'identity',
    order: 30,
    title: 'setup.accounts',
    hint: 'setup.accountsHint',
    path: '/identity/staff',
    async done({ tenant }) {
      const [admin, staff] = await Promise.all([hasUser(tenant, Role.ADMIN), hasUser(tenant, Role.STAFF)])
      return admin && staff
    },
  },
]
export default steps
