//! The names catalog writes and reads, each collection declared once (`mm_kernel::names`).

use mm_kernel::names::Child;

mm_kernel::collections! {
    /// "tenants/{tenant}/categories/{category}".
    Categories = "categories";
    /// "tenants/{tenant}/products/{product}": also how ordering names what it prices and
    /// reserves.
    Products = "products";
}

/// "tenants/{tenant}/categories/{category}".
pub type CategoryName = Child<Categories>;
/// "tenants/{tenant}/products/{product}".
pub type ProductName = Child<Products>;
