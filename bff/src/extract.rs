//! The extractors every route uses instead of axum's: the same parsing, but a request the
//! framework refuses (bad JSON, JSON of the wrong shape, a wrong content type, a bad query string
//! or path segment) answers `{code, message, details}` through `error.rs` like every other error,
//! instead of axum's plain-text 400/415/422. Routes import `Json`, `Query` and `Path` from here;
//! `Json` is also the JSON answer, as axum's is.

use axum::extract::{FromRequest, FromRequestParts};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::ApiError;

/// A JSON body (or answer); refusals answer through [`ApiError`].
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// A query string; refusals answer through [`ApiError`].
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// Path parameters; refusals answer through [`ApiError`].
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);
