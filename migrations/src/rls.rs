//! Row-level security on PostgreSQL, the second wall behind the tenant filter that
//! `mm_kernel::scope` writes. Every table with a `tenant_id` column gets a policy that lets a
//! row through only when the transaction's `app.tenant_id` setting is its tenant (or
//! [`ALL_TENANTS`], which only a named system scope sets). FORCE applies the policy to the
//! table's owner as well, so an application connecting as the role that ran the migrations is
//! still behind it; only superusers and `BYPASSRLS` roles pass, and [`bypasses_rls`] lets the
//! server say so at start-up.
//!
//! The policy is applied by [`secure_tenant_tables`] after the migrations, to every table that
//! lacks it, so a new module's tables are covered without the module asking.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

/// The value of `app.tenant_id` that the policies read as "every tenant".
pub const ALL_TENANTS: &str = "*";

/// Tables with a `tenant_id` column whose rows are not one tenant's, and so are outside RLS:
/// the tenant registry itself (found by AppID or slug before any tenant is known), login
/// sessions and the audit log (both keyed by a tenant or by "platform" for operators).
pub const PLATFORM_TABLES: &[&str] = &["tenants", "identity_sessions", "audit_events"];

/// The SQL that puts `table` behind the tenant policy; idempotent.
pub fn policy_sql(table: &str) -> String {
    let visible = format!(
        "tenant_id = current_setting('app.tenant_id', true) \
         OR current_setting('app.tenant_id', true) = '{ALL_TENANTS}'"
    );
    format!(
        "ALTER TABLE \"{table}\" ENABLE ROW LEVEL SECURITY; \
         ALTER TABLE \"{table}\" FORCE ROW LEVEL SECURITY; \
         DROP POLICY IF EXISTS tenant_isolation ON \"{table}\"; \
         CREATE POLICY tenant_isolation ON \"{table}\" USING ({visible}) WITH CHECK ({visible});"
    )
}

/// Puts every tenant-owned table that is not yet behind the policy behind it (PostgreSQL only)
/// and returns their names.
pub async fn secure_tenant_tables(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(Vec::new());
    }
    let rows = db
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT c.relname AS name FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped \
             WHERE n.nspname = current_schema() AND c.relkind = 'r' \
               AND NOT (c.relrowsecurity AND c.relforcerowsecurity \
                        AND EXISTS (SELECT 1 FROM pg_policy p \
                                    WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation')) \
             ORDER BY 1",
        ))
        .await?;
    let mut secured = Vec::new();
    for row in rows {
        let name: String = row.try_get("", "name")?;
        if PLATFORM_TABLES.contains(&name.as_str()) {
            continue;
        }
        db.execute_unprepared(&policy_sql(&name)).await?;
        secured.push(name);
    }
    Ok(secured)
}

/// Whether the connected role passes every RLS policy (a superuser or `BYPASSRLS`), which leaves
/// the tenant filter as the only wall. Always false on SQLite, which has no roles.
pub async fn bypasses_rls(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(false);
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT (rolsuper OR rolbypassrls) AS bypass FROM pg_roles WHERE rolname = current_user",
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get("", "bypass")?,
        None => false,
    })
}
