//! Customer login for the mini-program: the `wx.login` code goes to the identity service, which
//! talks to WeChat; the phone gets tokens back, never WeChat's session key. Also token refresh,
//! logout, phone binding and the customer's own profile.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use mm_proto::minimodules::identity::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::BffState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Query};
use crate::routes::app::{AppConfigQuery, appid_from};

/// Tokens for the mini-program to keep.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokensDto {
    /// Bearer token for API calls.
    pub access_token: String,
    /// Seconds until it expires.
    pub access_expires_in: i64,
    /// Single-use token for POST /api/v1/auth/refresh.
    pub refresh_token: String,
    /// Seconds until it expires.
    pub refresh_expires_in: i64,
}

/// The customer as the mini-program shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeDto {
    /// User id.
    pub id: String,
    /// Name to show.
    pub display_name: String,
    /// WeChat nickname, may be empty.
    pub nickname: String,
    /// Avatar URL, may be empty.
    pub avatar_url: String,
    /// Bound phone, empty when none.
    pub phone: String,
}

/// Answer of a login.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginDto {
    /// Tokens.
    pub tokens: TokensDto,
    /// The customer.
    pub user: MeDto,
    /// Whether this login created the customer.
    pub created: bool,
}

/// Body of the WeChat login.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WechatLoginBody {
    /// The code from wx.login.
    pub code: String,
}

/// Body of the development login.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DevLoginBody {
    /// A made-up openid naming the test customer.
    pub openid: String,
}

/// Body of a refresh.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshBody {
    /// The refresh token.
    pub refresh_token: String,
}

/// Body of phone binding.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PhoneBody {
    /// The code from the getPhoneNumber button.
    pub code: String,
}

fn tokens(t: Option<pb::Tokens>) -> TokensDto {
    let t = t.unwrap_or_default();
    TokensDto {
        access_token: t.access_token,
        access_expires_in: t.access_expires_in,
        refresh_token: t.refresh_token,
        refresh_expires_in: t.refresh_expires_in,
    }
}

fn me(u: Option<pb::User>) -> MeDto {
    let u = u.unwrap_or_default();
    MeDto {
        id: u.name.rsplit('/').next().unwrap_or_default().to_string(),
        display_name: u.display_name,
        nickname: u.nickname,
        avatar_url: u.avatar_url,
        phone: u.phone,
    }
}

fn appid(headers: &HeaderMap, query: &AppConfigQuery) -> Result<String, ApiError> {
    appid_from(headers, query)
        .filter(|a| a.len() <= 64)
        .ok_or_else(|| {
            ApiError::bad_request(
                "appid",
                "send the X-WeChat-Appid header or the appid query parameter",
            )
        })
}

/// Logs a customer in with the code from wx.login.
#[utoipa::path(post, path = "/api/v1/auth/wechat-login", tag = "auth", request_body = WechatLoginBody,
    params(AppConfigQuery, ("X-WeChat-Appid" = Option<String>, Header, description = "The mini-program's appid")),
    responses((status = 200, body = LoginDto), (status = 400, body = ErrorBody), (status = 401, description = "Invalid or used code", body = ErrorBody),
        (status = 404, description = "Appid not registered", body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, description = "WeChat unavailable", body = ErrorBody)))]
pub async fn wechat_login(
    State(state): State<Arc<BffState>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
    Json(body): Json<WechatLoginBody>,
) -> Result<Json<LoginDto>, ApiError> {
    let req = crate::forward(
        &headers,
        pb::WechatLoginRequest {
            wechat_appid: appid(&headers, &query)?,
            code: body.code,
        },
    );
    let r = state.auth.clone().wechat_login(req).await?.into_inner();
    Ok(Json(LoginDto {
        tokens: tokens(r.tokens),
        user: me(r.user),
        created: r.created,
    }))
}

/// Development only: logs a made-up customer in without WeChat; refused outside dev mode.
#[utoipa::path(post, path = "/api/v1/auth/dev-login", tag = "auth", request_body = DevLoginBody,
    params(AppConfigQuery, ("X-WeChat-Appid" = Option<String>, Header, description = "The mini-program's appid")),
    responses((status = 200, body = LoginDto), (status = 400, description = "Not in dev mode, or bad input", body = ErrorBody)))]
pub async fn dev_login(
    State(state): State<Arc<BffState>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
    Json(body): Json<DevLoginBody>,
) -> Result<Json<LoginDto>, ApiError> {
    let req = crate::forward(
        &headers,
        pb::DevLoginRequest {
            wechat_appid: appid(&headers, &query)?,
            openid: body.openid,
        },
    );
    let r = state.auth.clone().dev_login(req).await?.into_inner();
    Ok(Json(LoginDto {
        tokens: tokens(r.tokens),
        user: me(r.user),
        created: false,
    }))
}

/// Exchanges a refresh token for a new pair; the one sent is spent.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses((status = 200, body = TokensDto), (status = 401, description = "Session ended", body = ErrorBody)))]
pub async fn refresh(
    State(state): State<Arc<BffState>>,
    headers: HeaderMap,
    Json(body): Json<RefreshBody>,
) -> Result<Json<TokensDto>, ApiError> {
    let req = crate::forward(
        &headers,
        pb::RefreshSessionRequest {
            refresh_token: body.refresh_token,
        },
    );
    let r = state.auth.clone().refresh_session(req).await?.into_inner();
    Ok(Json(tokens(r.tokens)))
}

/// Ends the session of the bearer token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Logged out"), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<Arc<BffState>>,
    headers: HeaderMap,
) -> Result<axum::http::StatusCode, ApiError> {
    state
        .auth
        .clone()
        .logout(crate::forward(&headers, pb::LogoutRequest {}))
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Binds the phone from the getPhoneNumber button's code.
#[utoipa::path(post, path = "/api/v1/auth/phone", tag = "auth", request_body = PhoneBody, security(("bearer" = [])),
    responses((status = 200, body = MeDto), (status = 401, body = ErrorBody)))]
pub async fn bind_phone(
    State(state): State<Arc<BffState>>,
    headers: HeaderMap,
    Json(body): Json<PhoneBody>,
) -> Result<Json<MeDto>, ApiError> {
    let r = state
        .auth
        .clone()
        .bind_phone(crate::forward(
            &headers,
            pb::BindPhoneRequest { code: body.code },
        ))
        .await?
        .into_inner();
    Ok(Json(me(r.user)))
}

/// The logged-in customer.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeDto), (status = 401, body = ErrorBody)))]
pub async fn get_me(
    State(state): State<Arc<BffState>>,
    headers: HeaderMap,
) -> Result<Json<MeDto>, ApiError> {
    let r = state
        .auth
        .clone()
        .get_me(crate::forward(&headers, pb::GetMeRequest {}))
        .await?
        .into_inner();
    Ok(Json(me(r.user)))
}

/// Profile fields the customer may change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateMeBody {
    /// Nickname from the mini-program's nickname input.
    pub nickname: Option<String>,
    /// Avatar URL (https) after uploading the chosen avatar.
    pub avatar_url: Option<String>,
}

/// Updates the logged-in customer's nickname or avatar.
#[utoipa::path(patch, path = "/api/v1/me", tag = "auth", request_body = UpdateMeBody, security(("bearer" = [])),
    responses((status = 200, body = MeDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn update_me(
    State(state): State<Arc<BffState>>,
    headers: HeaderMap,
    Json(body): Json<UpdateMeBody>,
) -> Result<Json<MeDto>, ApiError> {
    let mut paths = Vec::new();
    let mut user = pb::User::default();
    if let Some(n) = body.nickname {
        user.nickname = n;
        paths.push("nickname".to_string());
    }
    if let Some(a) = body.avatar_url {
        user.avatar_url = a;
        paths.push("avatar_url".to_string());
    }
    let req = pb::UpdateMeRequest {
        user: Some(user),
        update_mask: Some(prost_types::FieldMask { paths }),
    };
    let r = state
        .auth
        .clone()
        .update_me(crate::forward(&headers, req))
        .await?
        .into_inner();
    Ok(Json(me(r.user)))
}

/// The same update as `PATCH /api/v1/me`, for clients that cannot send PATCH: WeChat's
/// `wx.request` offers GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE and CONNECT only.
#[utoipa::path(post, path = "/api/v1/me", tag = "auth", request_body = UpdateMeBody, security(("bearer" = [])),
    responses((status = 200, body = MeDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn update_me_post(
    state: State<Arc<BffState>>,
    headers: HeaderMap,
    body: Json<UpdateMeBody>,
) -> Result<Json<MeDto>, ApiError> {
    update_me(state, headers, body).await
}

/// Routes of this file.
pub fn router() -> Router<Arc<BffState>> {
    Router::new()
        .route("/api/v1/auth/wechat-login", post(wechat_login))
        .route("/api/v1/auth/dev-login", post(dev_login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/phone", post(bind_phone))
        .route(
            "/api/v1/me",
            get(get_me).patch(update_me).post(update_me_post),
        )
}
