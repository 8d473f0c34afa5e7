//! Rows and domain values to proto messages. Secrets never appear here: there is no field to put
//! a password hash, session key or AppSecret in.

use mm_kernel::TenantId;
use mm_kernel::audit::AuditEntry;
use mm_kernel::json::timestamp as ts;
use mm_kernel::names::name_of;
use mm_proto::minimodules::identity::v1 as pb;

use crate::entity::users;
use crate::names::{AuditEvents, Users};
use crate::service::{Tokens, parse_role, permissions_of};

/// A user to proto.
pub fn user(row: &users::Model) -> pb::User {
    pb::User {
        name: name_of::<Users>(row.tenant_id, &row.user_id),
        role: parse_role(&row.role) as i32,
        display_name: row.display_name.clone(),
        login_name: row.login_name.clone().unwrap_or_default(),
        phone: row.phone.clone().unwrap_or_default(),
        nickname: row.nickname.clone(),
        avatar_url: row.avatar_url.clone(),
        permissions: permissions_of(row),
        disabled: row.disabled,
        wechat_linked: row.wechat_openid.is_some(),
        last_login_time: row.last_login_at.map(ts),
        create_time: Some(ts(row.created_at)),
        update_time: Some(ts(row.updated_at)),
    }
}

/// Tokens to proto.
pub fn tokens(t: Tokens) -> pb::Tokens {
    pb::Tokens {
        access_token: t.access_token,
        access_expires_in: t.access_expires_in,
        refresh_token: t.refresh_token,
        refresh_expires_in: t.refresh_expires_in,
    }
}

/// An audit entry to proto.
pub fn audit_event(tenant: TenantId, e: &AuditEntry) -> pb::AuditEvent {
    pb::AuditEvent {
        name: name_of::<AuditEvents>(tenant, &e.event_id),
        actor: e.actor.clone(),
        action: e.action.clone(),
        target: e.target.clone(),
        client_address: e.client_addr.clone().unwrap_or_default(),
        create_time: Some(ts(e.created_at)),
        details_json: e.details.clone(),
    }
}
