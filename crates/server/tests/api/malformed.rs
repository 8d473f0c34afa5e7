//! Requests the server cannot decode are the caller's fault: INVALID_ARGUMENT with the reason
//! MALFORMED_REQUEST, never INTERNAL, over gRPC and grpc-web, anonymous or not.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use mm_proto::minimodules::tenant::v1 as pb;
use mm_testkit::spawn_app;
use prost::Message as _;
use tonic::Code;
use tonic_types::StatusExt as _;
use tower::ServiceExt as _;

const GET_APP_CONFIG: &str = "/minimodules.tenant.v1.TenantService/GetAppConfig";
const UPDATE_MODULE_CONFIG: &str = "/minimodules.tenant.v1.TenantService/UpdateModuleConfig";

/// A gRPC length-prefixed frame around `msg`.
fn frame(msg: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    out.extend_from_slice(&u32::try_from(msg.len()).unwrap().to_be_bytes());
    out.extend_from_slice(msg);
    out
}

/// Sends `body` as is over HTTP/2 gRPC and reads the status from the answer's headers or
/// trailers.
async fn raw_grpc(
    app: &mm_testkit::TestApp,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> tonic::Status {
    let mut req = http::Request::builder()
        .method("POST")
        .uri(format!("{}{path}", app.grpc_url))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = req
        .body(tonic::body::Body::new(Full::new(Bytes::from(body))))
        .unwrap();
    let res = app.channel.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    if let Some(status) = tonic::Status::from_header_map(&parts.headers) {
        return status;
    }
    let collected = body.collect().await.unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    tonic::Status::from_header_map(&trailers).expect("a grpc-status")
}

fn assert_malformed(status: &tonic::Status, case: &str) {
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "{case}: {:?} {}",
        status.code(),
        status.message()
    );
    let info = status.get_error_details();
    let info = info.error_info().expect("an ErrorInfo");
    assert_eq!(info.reason, "MALFORMED_REQUEST", "{case}");
    assert!(
        !status.message().is_empty(),
        "{case}: a message says what was wrong"
    );
}

/// A Struct nested `depth` times, deeper than prost's recursion limit (100).
fn deep_struct(depth: usize) -> prost_types::Struct {
    let mut s = prost_types::Struct::default();
    for _ in 0..depth {
        let mut outer = prost_types::Struct::default();
        outer.fields.insert(
            "x".into(),
            prost_types::Value {
                kind: Some(prost_types::value::Kind::StructValue(s)),
            },
        );
        s = outer;
    }
    s
}

#[tokio::test]
async fn undecodable_requests_are_invalid_argument_not_internal() {
    let app = spawn_app().await;
    let valid = pb::GetAppConfigRequest {
        wechat_appid: mm_server::demo::DEMO_APPID.into(),
    }
    .encode_to_vec();
    // Field 1 (wechat_appid, a string) with bytes that are not UTF-8.
    let bad_utf8 = vec![0x0a, 0x02, 0xff, 0xfe];
    let garbage = vec![0xff; 16];
    let truncated_message = valid[..valid.len() - 3].to_vec();
    let truncated_frame = {
        let mut f = frame(&valid);
        f.truncate(f.len() - 3);
        f
    };
    let anonymous = [
        ("a string that is not UTF-8", frame(&bad_utf8)),
        ("garbage bytes", frame(&garbage)),
        ("a truncated message", frame(&truncated_message)),
        ("a truncated frame", truncated_frame),
        ("no message at all", Vec::new()),
    ];
    for (case, body) in anonymous {
        let status = raw_grpc(&app, GET_APP_CONFIG, None, body).await;
        assert_malformed(&status, case);
    }

    // A Struct nested past the decoder's recursion limit, from a caller allowed to send one.
    let deep = pb::UpdateModuleConfigRequest {
        config: Some(pb::ModuleConfig {
            name: "tenants/x/modules/ordering/config".into(),
            config: Some(deep_struct(150)),
            ..Default::default()
        }),
    }
    .encode_to_vec();
    let status = raw_grpc(
        &app,
        UPDATE_MODULE_CONFIG,
        Some(&app.operator()),
        frame(&deep),
    )
    .await;
    assert_malformed(&status, "a 150-deep Struct");

    // The same request, well formed, still works.
    let status = raw_grpc(&app, GET_APP_CONFIG, None, frame(&valid)).await;
    assert_eq!(status.code(), Code::Ok, "{}", status.message());
}

#[tokio::test]
async fn undecodable_grpc_web_requests_are_invalid_argument() {
    let app = spawn_app().await;
    let url = format!("{}{GET_APP_CONFIG}", app.grpc_url);
    let cases = [
        ("garbage bytes", frame(&[0xff; 16])),
        (
            "a truncated frame",
            frame(&[0x0a, 0x05, b'w'])[..6].to_vec(),
        ),
    ];
    for (case, body) in cases {
        let res = app
            .http
            .post(&url)
            .header("content-type", "application/grpc-web+proto")
            .header("x-grpc-web", "1")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{case}");
        let mut headers = res.headers().clone();
        if headers.get("grpc-status").is_none() {
            // The status came in a trailers frame at the end of the body.
            let body = res.bytes().await.unwrap();
            let text = String::from_utf8_lossy(&body);
            for line in text.split("\r\n") {
                if let Some((k, v)) = line.split_once(':')
                    && let (Ok(k), Ok(v)) = (
                        http::HeaderName::from_bytes(
                            k.trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
                                .as_bytes(),
                        ),
                        http::HeaderValue::from_str(v.trim()),
                    )
                {
                    headers.insert(k, v);
                }
            }
        }
        let status = tonic::Status::from_header_map(&headers).expect("a grpc-status");
        assert_malformed(&status, case);
    }
}
