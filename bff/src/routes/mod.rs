//! The BFF's own routes (boot, login) and what modules' routes share (WeChat Pay's
//! notifications); a module's own routes live in its crate (`mm_kernel::module::BffDef`).

pub mod app;
pub mod auth;
pub mod wechat_pay;
