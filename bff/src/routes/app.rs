//! The mini-program's boot call. The tenant is found by the mini-program's appid: the
//! `X-WeChat-Appid` header, the `appid` query parameter, or the Referer WeChat stamps on every
//! request from a mini-program (`https://servicewechat.com/{appid}/{version}/page-frame.html`).
//! Answers are cached per appid in this process, dropped when the tenant service announces a
//! change (in-process or through Redis), and revalidated with ETags so an unchanged config costs a
//! phone nothing but a 304.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use mm_kernel::TenantId;
use mm_kernel::cache::Cache;
use mm_kernel::held::Held;
use mm_proto::minimodules::tenant::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::BffState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Query;

/// A zh-CN / en text.
#[derive(Debug, Serialize, ToSchema)]
pub struct I18nDto {
    /// Chinese.
    #[serde(rename = "zh-CN")]
    pub zh: String,
    /// English.
    pub en: String,
}

/// The tenant's theme.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThemeDto {
    /// Main colour, #RRGGBB.
    pub primary_color: String,
    /// Accent colour.
    pub secondary_color: String,
    /// Background colour.
    pub background_color: String,
    /// Text colour.
    pub text_color: String,
    /// Logo URL, empty for none.
    pub logo_url: String,
}

/// A page of a module's subpackage.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageDto {
    /// Path inside the module's subpackage.
    pub path: String,
    /// Title.
    pub title: I18nDto,
}

/// A tab bar entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct TabDto {
    /// Module id.
    pub module: String,
    /// Page path inside the module's subpackage.
    pub page: String,
    /// Label.
    pub text: I18nDto,
    /// Icon name.
    pub icon: String,
    /// Lower sorts first.
    pub order: i32,
}

/// An enabled module.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModuleDto {
    /// Module id.
    pub id: String,
    /// Module version.
    pub version: String,
    /// Name.
    pub name: I18nDto,
    /// Pages.
    pub pages: Vec<PageDto>,
    /// Public config only: never secrets.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
}

/// Everything the mini-program needs to start.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppConfigDto {
    /// Tenant id.
    pub tenant_id: String,
    /// Tenant slug.
    pub slug: String,
    /// Title to show.
    pub display_name: String,
    /// English title, may be empty.
    pub display_name_en: String,
    /// Industry.
    pub industry: String,
    /// Theme.
    pub theme: ThemeDto,
    /// Enabled modules, each after the modules it needs.
    pub modules: Vec<ModuleDto>,
    /// Tab bar, from every enabled module's entries, sorted.
    pub tabs: Vec<TabDto>,
    /// Config version; changes whenever anything here changes.
    pub version: i64,
}

/// Query of the boot call.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AppConfigQuery {
    /// The mini-program's appid, when the X-WeChat-Appid header is not sent.
    pub appid: Option<String>,
}

fn i18n(zh: &str, en: &str) -> I18nDto {
    I18nDto {
        zh: zh.to_string(),
        en: en.to_string(),
    }
}

/// Shapes the service's AppConfig for the screen.
pub fn to_dto(c: pb::AppConfig) -> AppConfigDto {
    let b = c.branding.unwrap_or_default();
    let mut tabs: Vec<TabDto> = c
        .modules
        .iter()
        .flat_map(|m| {
            m.tabs.iter().map(|t| TabDto {
                module: m.id.clone(),
                page: t.page_path.clone(),
                text: i18n(&t.text_zh, &t.text_en),
                icon: t.icon.clone(),
                order: t.order,
            })
        })
        .collect();
    tabs.sort_by_key(|t| t.order);
    AppConfigDto {
        tenant_id: c.tenant.trim_start_matches("tenants/").to_string(),
        slug: c.slug,
        display_name: c.display_name,
        display_name_en: c.display_name_en,
        industry: c.industry,
        theme: ThemeDto {
            primary_color: b.primary_color,
            secondary_color: b.secondary_color,
            background_color: b.background_color,
            text_color: b.text_color,
            logo_url: b.logo_url,
        },
        modules: c
            .modules
            .into_iter()
            .map(|m| ModuleDto {
                name: i18n(&m.display_name_zh, &m.display_name_en),
                pages: m
                    .pages
                    .iter()
                    .map(|p| PageDto {
                        path: p.path.clone(),
                        title: i18n(&p.title_zh, &p.title_en),
                    })
                    .collect(),
                config: m
                    .public_config
                    .as_ref()
                    .map(mm_kernel::json::struct_to_json)
                    .unwrap_or_default(),
                id: m.id,
                version: m.version,
            })
            .collect(),
        tabs,
        version: c.version,
    }
}

/// A rendered boot answer.
#[derive(Clone)]
pub struct CachedBoot {
    tenant: TenantId,
    etag: HeaderValue,
    body: Bytes,
}

/// Rendered boot answers, keyed by appid, held per tenant (`mm_kernel::held`).
pub type BootCache = Held<CachedBoot>;

/// A new boot cache following `cache`'s announcements.
pub fn boot_cache(cache: &Cache, ttl: Duration) -> BootCache {
    Held::new(cache, ttl, 10_000)
}

/// The mini-program's appid: header, query, or WeChat's Referer.
pub fn appid_from(headers: &HeaderMap, query: &AppConfigQuery) -> Option<String> {
    if let Some(v) = headers.get("x-wechat-appid").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_string());
    }
    if let Some(a) = &query.appid {
        return Some(a.trim().to_string());
    }
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.strip_prefix("https://servicewechat.com/"))
        .and_then(|r| r.split('/').next())
        .filter(|a| !a.is_empty())
        .map(str::to_string)
}

fn answer(c: &CachedBoot, headers: &HeaderMap) -> Response {
    rendered(&c.etag, &c.body, headers)
}

/// A rendered JSON answer held by the BFF: 304 when the client sent its ETag, else the body.
/// `no-cache`: the client keeps it but asks again (cheaply, with the ETag) every time.
pub fn rendered(etag: &HeaderValue, body: &Bytes, headers: &HeaderMap) -> Response {
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let common = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    if not_modified {
        (StatusCode::NOT_MODIFIED, common).into_response()
    } else {
        (
            StatusCode::OK,
            common,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body.clone(),
        )
            .into_response()
    }
}

/// The boot config of the calling mini-program.
#[utoipa::path(
    get,
    path = "/api/v1/app/config",
    tag = "app",
    params(
        AppConfigQuery,
        ("X-WeChat-Appid" = Option<String>, Header, description = "The mini-program's appid"),
        ("If-None-Match" = Option<String>, Header, description = "ETag of a config the client holds"),
    ),
    responses(
        (status = 200, description = "The boot config", body = AppConfigDto),
        (status = 304, description = "Unchanged since the ETag sent"),
        (status = 400, description = "Missing or malformed appid", body = ErrorBody),
        (status = 404, description = "No active tenant for this appid", body = ErrorBody),
    )
)]
pub async fn get_app_config(
    State(state): State<Arc<BffState>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let entry = boot_entry(&state, &query, &headers).await?;
    Ok(answer(&entry, &headers))
}

/// The tenant id of the calling mini-program, from the boot cache (or one boot call).
pub async fn tenant_of(
    state: &BffState,
    query: &AppConfigQuery,
    headers: &HeaderMap,
) -> Result<TenantId, ApiError> {
    Ok(boot_entry(state, query, headers).await?.tenant)
}

async fn boot_entry(
    state: &BffState,
    query: &AppConfigQuery,
    headers: &HeaderMap,
) -> Result<CachedBoot, ApiError> {
    let appid = appid_from(headers, query).ok_or_else(|| {
        ApiError::bad_request(
            "appid",
            "send the X-WeChat-Appid header or the appid query parameter",
        )
    })?;
    if appid.len() > 64 {
        return Err(ApiError::bad_request("appid", "is too long"));
    }
    if let Some(hit) = state.boot.get(&appid) {
        tracing::Span::current().record("tenant", tracing::field::display(hit.tenant));
        return Ok(hit);
    }
    let ticket = state.boot.ticket();
    let mut client = state.tenants.clone();
    let req = crate::forward(
        headers,
        pb::GetAppConfigRequest {
            wechat_appid: appid.clone(),
        },
    );
    let cfg = client
        .get_app_config(req)
        .await?
        .into_inner()
        .app_config
        .unwrap_or_default();
    // The tenant service names the tenant; a name it cannot have written is its fault, not the
    // caller's.
    let tenant = mm_kernel::ids::tenant_from_name(&cfg.tenant, "tenant").map_err(|e| {
        ApiError::from(tonic::Status::internal(format!(
            "the tenant service answered a malformed tenant: {e}"
        )))
    })?;
    tracing::Span::current().record("tenant", tracing::field::display(tenant));
    let etag = HeaderValue::from_str(&format!("W/\"{}-{}\"", tenant, cfg.version))
        .unwrap_or_else(|_| HeaderValue::from_static("W/\"0\""));
    let body = serde_json::to_vec(&to_dto(cfg)).map_err(|e| {
        ApiError::from(tonic::Status::internal(format!(
            "encoding the boot config failed: {e}"
        )))
    })?;
    let entry = CachedBoot {
        tenant,
        etag,
        body: Bytes::from(body),
    };
    state
        .boot
        .fill(ticket, appid, entry.tenant.to_string(), entry.clone());
    Ok(entry)
}

/// Routes of this file.
pub fn router() -> Router<Arc<BffState>> {
    Router::new().route("/api/v1/app/config", get(get_app_config))
}
