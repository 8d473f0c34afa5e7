// The identity module's words in English; the type makes it carry exactly zh-CN's keys.
import type { Shape } from '@/locales/shape'
import type zh from './locale.zh-CN'

const en: Shape<typeof zh> = {
  identity: {
    staff: 'Staff and roles',
    customers: 'Customers',
    audit: 'Audit log',
    newStaff: 'New staff member',
    editStaff: 'Edit staff member',
    role: 'Role',
    roles: { admin: 'Admin', staff: 'Staff', customer: 'Customer', operator: 'Operator' },
    displayName: 'Name',
    loginName: 'Login',
    phone: 'Phone',
    permissions: 'Permissions',
    permissionsHint: 'Staff can use only what is ticked; admins can do everything',
    password: 'Initial password',
    status: 'Status',
    enabled: 'Active',
    disabled: 'Disabled',
    disable: 'Disable',
    enable: 'Enable',
    disableConfirm: '“{name}” will be logged out and unable to log in. Disable?',
    lastLogin: 'Last login',
    nickname: 'Nickname',
    search: 'Search name, login, nickname or phone',
    time: 'Time',
    actor: 'Actor',
    action: 'Event',
    target: 'Target',
    address: 'Address',
    details: 'Details',
  },
  reasons: {
    identity: {
      BAD_CREDENTIALS: 'Wrong login name or password',
      ACCOUNT_LOCKED: 'Too many failed logins; try again in {retry_after_secs} seconds',
      TOO_MANY_ATTEMPTS: 'Too many attempts; try again shortly',
      ACCOUNT_DISABLED: 'This account is disabled',
      SESSION_ENDED: 'The session has ended; log in again',
      USER_NOT_FOUND: 'User not found',
      DUPLICATE_LOGIN: 'This login name is taken',
      APP_NOT_REGISTERED: 'No mini-program uses this AppID',
      WECHAT_CREDENTIALS_REFUSED: 'WeChat refused the mini-program’s AppID or AppSecret; check them',
      WECHAT_RATE_LIMITED: 'WeChat is busy; try again shortly',
      WECHAT_UNAVAILABLE: 'WeChat cannot be reached; try again shortly',
    },
  },
}

export default en
