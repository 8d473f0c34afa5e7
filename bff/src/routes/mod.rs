//! One file per module the mini-program talks to; each exposes `router()`.

pub mod app;
pub mod auth;
pub mod booking;
pub mod catalog;
pub mod ordering;
pub mod wechat_pay;
