//! THE endpoint WeChat Pay posts its payment and refund notifications to, for every paying module:
//! the notify URL of every payment started here. Whether a notification is genuine and what it
//! means is decided by the payments service; this file only hands it over and answers WeChat in
//! its own format.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use mm_kernel::TenantId;
use mm_kernel::names::tenant_name;
use mm_kernel::platform::Platform;
use mm_proto::minimodules::payments::v1 as pb;
use mm_proto::minimodules::payments::v1::payment_service_client::PaymentServiceClient;

use mm_bff::error::WechatPayFailureBody;
use mm_bff::extract::Path;
use mm_bff::routes::wechat_pay::notification_headers;

/// WeChat Pay's payment and refund notifications for one tenant. Answers 204 when handled (or
/// already handled); otherwise WeChat's failure format, so WeChat retries.
#[utoipa::path(post, path = "/api/v1/payments/wechat/notify/{tenant}", tag = "payments",
    request_body(content = String, content_type = "application/json", description = "WeChat Pay's signed notification, verified over its exact bytes"),
    params(("tenant" = String, Path, description = "Tenant id, from the notify_url given to WeChat Pay")),
    responses((status = 204, description = "Handled"),
        (status = 400, description = "Not applicable, or the body could not be read", body = WechatPayFailureBody),
        (status = 401, description = "Signature refused", body = WechatPayFailureBody),
        (status = 404, description = "Unknown tenant or payment", body = WechatPayFailureBody),
        (status = 409, description = "Conflicting with a change under way; WeChat retries", body = WechatPayFailureBody),
        (status = 413, description = "Body too large", body = WechatPayFailureBody),
        (status = 429, description = "Too many; WeChat retries", body = WechatPayFailureBody),
        (status = 500, description = "Internal error; WeChat retries", body = WechatPayFailureBody),
        (status = 503, description = "Unavailable; WeChat retries", body = WechatPayFailureBody)))]
pub async fn wechat_pay_notify(
    State(state): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return mm_bff::error::wechat_pay_refusal(e.status(), &e.body_text()),
    };
    let [timestamp, nonce, signature, serial] = notification_headers(&headers);
    // The tenant comes from the notify URL as text: a malformed one is refused as the payments
    // service would refuse the parent.
    let parent = match TenantId::parse(&tenant, "parent") {
        Ok(t) => tenant_name(t),
        Err(e) => return mm_bff::error::wechat_pay_failure(&e.into()),
    };
    let req = pb::HandleWechatNotificationRequest {
        parent,
        timestamp,
        nonce,
        signature,
        serial,
        body: body.to_vec(),
    };
    match state
        .payments
        .clone()
        .handle_wechat_notification(mm_bff::forward(&headers, req))
        .await
    {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(s) => mm_bff::error::wechat_pay_failure(&s),
    }
}

/// This module's own route state: its client.
pub struct Own {
    payments: PaymentServiceClient<Platform>,
}

type Shared = mm_bff::ModuleState<Own>;

/// This module's part of the BFF: its route and its OpenAPI document.
pub fn def() -> mm_kernel::module::BffDef {
    mm_kernel::module::BffDef {
        routes: |host| {
            mm_bff::module_routes(
                host,
                |bff| Own {
                    payments: PaymentServiceClient::new(bff.channel.clone()),
                },
                router(),
            )
        },
        openapi: <ApiDoc as utoipa::OpenApi>::openapi,
    }
}

/// The OpenAPI paths of this module's routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(wechat_pay_notify))]
struct ApiDoc;

/// Routes of this module.
fn router() -> Router<Arc<Shared>> {
    Router::new().route(
        "/api/v1/payments/wechat/notify/{tenant}",
        post(wechat_pay_notify),
    )
}
