//! Bookable services, resources (staff or rooms) with their weekly hours as JSON (always read and
//! written whole with the resource), time off, reservations, and the per-resource slot counters
//! that make capacity a database invariant: a reservation takes `taken = taken + 1 WHERE taken <
//! capacity` on every grid cell it covers, in the transaction that writes it.

use sea_orm_migration::prelude::*;

use mm_migrations::cols::{big, flag, id, int, str_, text, ts};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000700_booking_init"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("booking_services")
                    .col(id("tenant_id"))
                    .col(id("service_id"))
                    .col(str_("display_name", 100))
                    .col(text("description"))
                    .col(int("duration_minutes"))
                    .col(big("price_fen"))
                    .col(int("capacity"))
                    .col(int("buffer_minutes"))
                    .col(big("deposit_fen"))
                    .col(flag("active"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("service_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("booking_staff")
                    .col(id("tenant_id"))
                    .col(id("staff_id"))
                    .col(str_("display_name", 100))
                    .col(str_("kind", 16))
                    .col(text("service_ids"))
                    .col(text("weekly_hours"))
                    .col(flag("active"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("staff_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("booking_time_offs")
                    .col(id("tenant_id"))
                    .col(id("time_off_id"))
                    // Empty for the whole shop.
                    .col(str_("staff_id", 36))
                    .col(ts("starts_at"))
                    .col(ts("ends_at"))
                    .col(str_("reason", 200))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("time_off_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("booking_time_offs_period_idx")
                    .table("booking_time_offs")
                    .col("tenant_id")
                    .col("starts_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("booking_reservations")
                    .col(id("tenant_id"))
                    .col(id("reservation_id"))
                    .col(id("service_id"))
                    .col(id("staff_id"))
                    // A user id, or "" for walk-ins (request ids of staff are kept apart by
                    // `booked_by`).
                    .col(str_("customer_id", 64))
                    .col(str_("booked_by", 64))
                    .col(str_("status", 16))
                    .col(ts("starts_at"))
                    .col(ts("ends_at"))
                    // The grid cells taken: `cell_count` cells of `cell_minutes` from
                    // `cell_start` (unix seconds). Kept so a release gives back exactly what was
                    // taken even if the tenant's slot length changed since.
                    .col(big("cell_start"))
                    .col(int("cell_count"))
                    .col(int("cell_minutes"))
                    .col(big("price_fen"))
                    .col(big("deposit_fen"))
                    .col(str_("request_id", 64))
                    .col(str_("contact_name", 64))
                    .col(str_("contact_phone", 32))
                    .col(str_("note", 200))
                    .col(str_("cancel_reason", 16))
                    .col(ts("expires_at"))
                    .col(big("version"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .primary_key(Index::create().col("tenant_id").col("reservation_id"))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "booking_reservations_request_key",
                &["tenant_id", "booked_by", "request_id"][..],
                true,
            ),
            (
                "booking_reservations_start_idx",
                &["tenant_id", "starts_at", "reservation_id"][..],
                false,
            ),
            (
                "booking_reservations_customer_idx",
                &["tenant_id", "customer_id", "starts_at"][..],
                false,
            ),
            // The one index not led by tenant_id: the hold expiry sweep looks across tenants.
            (
                "booking_reservations_expiry_idx",
                &["status", "expires_at"][..],
                false,
            ),
        ] {
            let mut idx = Index::create();
            idx.name(name).table("booking_reservations");
            for c in cols {
                idx.col(*c);
            }
            if unique {
                idx.unique();
            }
            manager.create_index(idx.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("booking_slot_counts")
                    .col(id("tenant_id"))
                    .col(id("staff_id"))
                    // Unix seconds of the cell's start: an integer compares exactly on every
                    // backend, where timestamp text on SQLite would not.
                    .col(big("cell_start"))
                    .col(int("taken"))
                    .primary_key(
                        Index::create()
                            .col("tenant_id")
                            .col("staff_id")
                            .col("cell_start"),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "booking_slot_counts",
            "booking_reservations",
            "booking_time_offs",
            "booking_staff",
            "booking_services",
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
