//! Column shapes every module's migrations use, so a type means the same everywhere.

use sea_orm_migration::prelude::*;

/// A 36-character id (UUID text), not null.
pub fn id(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).string_len(36).not_null().to_owned()
}

/// A bounded string, not null.
pub fn str_(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(name).string_len(len).not_null().to_owned()
}

/// Unbounded text, not null.
pub fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

/// A 32-bit integer, not null.
pub fn int(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).integer().not_null().to_owned()
}

/// A 64-bit integer, not null.
pub fn big(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

/// Money in fen (64-bit), not null.
pub fn fen(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

/// A boolean, not null.
pub fn flag(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).boolean().not_null().to_owned()
}

/// A timestamp with time zone, not null.
pub fn ts(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

/// A timestamp with time zone, nullable.
pub fn ts_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

/// Creates `table`'s indexes, each a name, its columns (`tenant_id` first, by the house rule) and
/// whether it is unique.
pub async fn create_indexes(
    manager: &SchemaManager<'_>,
    table: &'static str,
    indexes: &[(&'static str, &[&'static str], bool)],
) -> Result<(), DbErr> {
    for (name, cols, unique) in indexes {
        let mut idx = Index::create();
        idx.name(*name).table(table);
        for c in *cols {
            idx.col(*c);
        }
        if *unique {
            idx.unique();
        }
        manager.create_index(idx.to_owned()).await?;
    }
    Ok(())
}
