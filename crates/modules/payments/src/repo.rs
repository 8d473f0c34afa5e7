//! Every query of the payments module. Each takes the [`TenantScope`] of the tenant whose rows it
//! reads or writes and builds its query from it ([`TenantScope::find`],
//! [`TenantScope::update_many`]), so the tenant filter is never hand-written; inserts set the
//! row's tenant from the scope. Run them inside the scope's transaction ([`TenantScope::begin`]):
//! on PostgreSQL, row-level security shows nothing to a query outside one. No function here spans
//! tenants.

use chrono::Utc;
use mm_kernel::TenantScope;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter};

use crate::domain::{NewPayment, Status};
use crate::entity::payments;

/// One payment of the tenant.
pub async fn find(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    payment_id: &str,
) -> Result<Option<payments::Model>, DbErr> {
    scope
        .find::<payments::Entity>()
        .filter(payments::Column::PaymentId.eq(payment_id))
        .one(db)
        .await
}

/// Records a started payment with its prepay id: a new row `open`, or, for a payment started
/// before (same name), the new prepay, description, listener and reference. Status, amount,
/// payer and transaction are left as they are (a payment paid meanwhile stays paid).
pub async fn upsert_started(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    p: &NewPayment,
    prepay_id: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let row = payments::Model {
        tenant_id: scope.tenant(),
        payment_id: p.payment_id.clone(),
        listener: p.listener.clone(),
        reference: p.reference.clone(),
        payer: p.payer.clone(),
        amount_fen: p.amount_fen,
        description: p.description.clone(),
        status: Status::Open.as_str().to_string(),
        prepay_id: Some(prepay_id.to_string()),
        transaction_id: None,
        created_at: now,
        updated_at: now,
    };
    payments::Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([payments::Column::TenantId, payments::Column::PaymentId])
                .update_columns([
                    payments::Column::PrepayId,
                    payments::Column::Description,
                    payments::Column::Listener,
                    payments::Column::Reference,
                    payments::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Marks an open payment paid with WeChat's transaction id; false when it was paid already.
pub async fn mark_paid(
    db: &impl ConnectionTrait,
    scope: &TenantScope,
    payment_id: &str,
    transaction_id: &str,
) -> Result<bool, DbErr> {
    let r = scope
        .update_many::<payments::Entity>()
        .col_expr(payments::Column::Status, Expr::value(Status::Paid.as_str()))
        .col_expr(
            payments::Column::TransactionId,
            Expr::value(transaction_id.to_string()),
        )
        .col_expr(payments::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payments::Column::PaymentId.eq(payment_id))
        .filter(payments::Column::Status.eq(Status::Open.as_str()))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}
