//! Catalog rules without I/O: what a valid category, product and SKU are. Money is integer fen.

use std::collections::HashSet;

use mm_kernel::error::FieldViolation;
use serde::{Deserialize, Serialize};

/// Highest price of one SKU: 1,000,000 yuan.
pub const MAX_PRICE_FEN: i64 = 100_000_000;
/// Highest stock of one SKU.
pub const MAX_STOCK: i64 = 10_000_000;
/// Most SKUs of one product.
pub const MAX_SKUS: usize = 50;

/// A price in fen (1/100 yuan), never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Fen(i64);

impl Fen {
    /// Parses a price, reporting problems under `field`.
    pub fn parse(v: i64, field: &str, out: &mut Vec<FieldViolation>) -> Self {
        if !(0..=MAX_PRICE_FEN).contains(&v) {
            // Worded in yuan, as the dashboard asks for prices.
            out.push(
                FieldViolation::new(field, "must be 0 to 100000000 fen")
                    .reason("PRICE_OUT_OF_RANGE")
                    .param("max_yuan", MAX_PRICE_FEN / 100),
            );
        }
        Self(v.clamp(0, MAX_PRICE_FEN))
    }

    /// The amount.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// One spec value of a SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    /// Spec name.
    pub spec: String,
    /// Value.
    pub value: String,
}

/// A SKU as given.
#[derive(Debug, Clone)]
pub struct SkuInput {
    /// Existing id to keep, or none for a new SKU.
    pub id: Option<String>,
    /// Spec values.
    pub specs: Vec<Spec>,
    /// Price.
    pub price: Fen,
    /// Stock; none is unlimited.
    pub stock: Option<i64>,
}

/// Checks a display name.
pub fn check_name(field: &str, v: &str, required: bool, out: &mut Vec<FieldViolation>) {
    let n = v.chars().count();
    if (required && v.trim().is_empty()) || n > 64 || v.chars().any(char::is_control) {
        out.push(FieldViolation::new(
            field,
            if required {
                "1 to 64 printable characters"
            } else {
                "at most 64 printable characters"
            },
        ));
    }
}

/// Checks description, images and tags.
pub fn check_details(
    prefix: &str,
    description: &str,
    images: &[String],
    tags: &[String],
    out: &mut Vec<FieldViolation>,
) {
    if description.chars().count() > 2000 {
        out.push(FieldViolation::too_long(
            format!("{prefix}.description"),
            2000,
        ));
    }
    if images.len() > 9 {
        out.push(
            FieldViolation::new(format!("{prefix}.image_urls"), "at most 9 images")
                .reason("TOO_MANY")
                .param("max", 9),
        );
    }
    for (i, u) in images.iter().enumerate() {
        if !(u.starts_with("https://") && u.len() <= 2048 && !u.chars().any(char::is_whitespace)) {
            out.push(FieldViolation::invalid_format(
                format!("{prefix}.image_urls[{i}]"),
                "url",
            ));
        }
    }
    if tags.len() > 10 {
        out.push(
            FieldViolation::new(format!("{prefix}.tags"), "at most 10 tags")
                .reason("TOO_MANY")
                .param("max", 10),
        );
    }
    for (i, t) in tags.iter().enumerate() {
        if t.trim().is_empty() || t.chars().count() > 16 {
            out.push(FieldViolation::new(
                format!("{prefix}.tags[{i}]"),
                "1 to 16 characters",
            ));
        }
    }
}

/// Checks a SKU list: 1-50 SKUs, stock in range, no two with the same spec values.
pub fn check_skus(prefix: &str, skus: &[SkuInput], out: &mut Vec<FieldViolation>) {
    if skus.is_empty() || skus.len() > MAX_SKUS {
        out.push(FieldViolation::new(
            format!("{prefix}.skus"),
            "1 to 50 SKUs",
        ));
    }
    let mut seen = HashSet::new();
    for (i, s) in skus.iter().enumerate() {
        if let Some(stock) = s.stock
            && !(0..=MAX_STOCK).contains(&stock)
        {
            out.push(FieldViolation::out_of_range(
                format!("{prefix}.skus[{i}].stock"),
                0,
                10000000,
            ));
        }
        if s.specs.len() > 5 {
            out.push(
                FieldViolation::new(format!("{prefix}.skus[{i}].specs"), "at most 5 specs")
                    .reason("TOO_MANY")
                    .param("max", 5),
            );
        }
        for (j, sp) in s.specs.iter().enumerate() {
            let bad = |v: &str| v.trim().is_empty() || v.chars().count() > 16;
            if bad(&sp.spec) || bad(&sp.value) {
                out.push(FieldViolation::new(
                    format!("{prefix}.skus[{i}].specs[{j}]"),
                    "spec and value are 1 to 16 characters",
                ));
            }
        }
        let mut key: Vec<(String, String)> = s
            .specs
            .iter()
            .map(|s| (s.spec.clone(), s.value.clone()))
            .collect();
        key.sort();
        if !seen.insert(key) {
            out.push(
                FieldViolation::new(
                    format!("{prefix}.skus[{i}].specs"),
                    "another SKU has the same spec values",
                )
                .reason("DUPLICATE"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sku(specs: &[(&str, &str)], price: i64, stock: Option<i64>) -> SkuInput {
        let mut v = Vec::new();
        SkuInput {
            id: None,
            specs: specs
                .iter()
                .map(|(s, v)| Spec {
                    spec: s.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            price: Fen::parse(price, "p", &mut v),
            stock,
        }
    }

    #[test]
    fn prices_are_whole_non_negative_fen() {
        let mut v = Vec::new();
        assert_eq!(Fen::parse(1800, "price", &mut v).get(), 1800);
        Fen::parse(-1, "price", &mut v);
        Fen::parse(MAX_PRICE_FEN + 1, "price", &mut v);
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn skus_must_differ_and_hold_sane_stock() {
        let mut v = Vec::new();
        check_skus(
            "p",
            &[
                sku(&[("杯型", "大")], 100, Some(1)),
                sku(&[("杯型", "大")], 200, Some(-1)),
            ],
            &mut v,
        );
        let fields: Vec<_> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, vec!["p.skus[1].stock", "p.skus[1].specs"]);
        let mut v = Vec::new();
        check_skus("p", &[], &mut v);
        assert_eq!(v[0].field, "p.skus");
    }
}
