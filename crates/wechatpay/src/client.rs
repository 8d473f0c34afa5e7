//! A small async client for the JSAPI payment calls. Every request is signed and every successful
//! response is verified against the platform key before its body is parsed.

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::model::check_out_no;
use crate::sign::{authorization, nonce_str, verify};
use crate::{
    Error, JsapiPrepay, MerchantKeys, NotificationHeaders, Refund, RefundRequest, Transaction,
};

/// WeChat Pay's production endpoint.
pub const PRODUCTION_BASE_URL: &str = "https://api.mch.weixin.qq.com";

// WeChat answers in well under a second; a long wait is a network problem, and callers must
// query the order anyway when a call times out.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// HTTP client for one WeChat Pay endpoint; merchant keys are passed per call so one client
/// serves every merchant.
#[derive(Debug, Clone)]
pub struct Client {
    base_url: Url,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct ApiError {
    code: String,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct PrepayResponse {
    prepay_id: String,
}

fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Client {
    /// `base_url` is [`PRODUCTION_BASE_URL`] in production, or a fake's URL in tests.
    pub fn new(base_url: &str) -> Result<Self, Error> {
        let base_url =
            Url::parse(base_url.trim_end_matches('/')).map_err(|e| Error::InvalidRequest {
                field: "base_url",
                reason: e.to_string(),
            })?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            // WeChat Pay refuses requests without a User-Agent.
            .user_agent(concat!("mm-wechatpay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(Error::Transport)?;
        Ok(Self { base_url, http })
    }

    /// Creates a JSAPI payment and returns its `prepay_id` (valid for two hours).
    pub async fn jsapi_prepay(
        &self,
        keys: &MerchantKeys,
        req: &JsapiPrepay,
    ) -> Result<String, Error> {
        check_out_no("out_trade_no", &req.out_trade_no)?;
        if req.amount_total_fen <= 0 {
            return Err(Error::InvalidRequest {
                field: "amount_total_fen",
                reason: "must be positive".into(),
            });
        }
        let mut body = json!({
            "appid": req.appid,
            "mchid": keys.mchid,
            "description": req.description,
            "out_trade_no": req.out_trade_no,
            "notify_url": req.notify_url,
            "amount": {"total": req.amount_total_fen, "currency": "CNY"},
            "payer": {"openid": req.payer_openid},
        });
        if let Some(t) = &req.time_expire {
            body["time_expire"] = json!(t);
        }
        if let Some(a) = &req.attach {
            body["attach"] = json!(a);
        }
        let r: PrepayResponse = self
            .call(keys, Method::POST, "/v3/pay/transactions/jsapi", Some(body))
            .await?;
        Ok(r.prepay_id)
    }

    /// Queries a transaction by the merchant's order number.
    pub async fn query_by_out_trade_no(
        &self,
        keys: &MerchantKeys,
        out_trade_no: &str,
    ) -> Result<Transaction, Error> {
        check_out_no("out_trade_no", out_trade_no)?;
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={}",
            keys.mchid
        );
        self.call(keys, Method::GET, &path, None).await
    }

    /// Closes an unpaid transaction so it can no longer be paid. WeChat answers 204.
    pub async fn close(&self, keys: &MerchantKeys, out_trade_no: &str) -> Result<(), Error> {
        check_out_no("out_trade_no", out_trade_no)?;
        let path = format!("/v3/pay/transactions/out-trade-no/{out_trade_no}/close");
        self.send(
            keys,
            Method::POST,
            &path,
            Some(json!({"mchid": keys.mchid})),
        )
        .await
        .map(drop)
    }

    /// Requests a refund. The answer is usually `PROCESSING`; the result comes as a notification.
    pub async fn refund(&self, keys: &MerchantKeys, req: &RefundRequest) -> Result<Refund, Error> {
        check_out_no("out_trade_no", &req.out_trade_no)?;
        check_out_no("out_refund_no", &req.out_refund_no)?;
        if req.refund_fen <= 0 || req.refund_fen > req.total_fen {
            return Err(Error::InvalidRequest {
                field: "refund_fen",
                reason: "must be positive and at most total_fen".into(),
            });
        }
        let mut body = json!({
            "out_trade_no": req.out_trade_no,
            "out_refund_no": req.out_refund_no,
            "notify_url": req.notify_url,
            "amount": {"refund": req.refund_fen, "total": req.total_fen, "currency": "CNY"},
        });
        if let Some(r) = &req.reason {
            body["reason"] = json!(r);
        }
        self.call(
            keys,
            Method::POST,
            "/v3/refund/domestic/refunds",
            Some(body),
        )
        .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        keys: &MerchantKeys,
        method: Method,
        path_and_query: &str,
        body: Option<Value>,
    ) -> Result<T, Error> {
        let (status, bytes) = self.send(keys, method, path_and_query, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::UnexpectedResponse {
            status,
            detail: format!("cannot parse body: {e}"),
        })
    }

    /// Signs, sends, and on 2xx verifies; returns the verified status and body.
    async fn send(
        &self,
        keys: &MerchantKeys,
        method: Method,
        path_and_query: &str,
        body: Option<Value>,
    ) -> Result<(u16, Vec<u8>), Error> {
        let url = self
            .base_url
            .join(path_and_query)
            .map_err(|e| Error::InvalidRequest {
                field: "url",
                reason: e.to_string(),
            })?;
        // Sign what will be on the request line after URL normalisation, not what we meant.
        let signed_target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = authorization(
            keys,
            method.as_str(),
            &signed_target,
            &body,
            now_unix(),
            &nonce_str(),
        )?;
        let mut req = self
            .http
            .request(method.clone(), url)
            .header("Authorization", auth)
            .header("Accept", "application/json");
        if method != Method::GET {
            req = req.header("Content-Type", "application/json").body(body);
        }
        let resp = req.send().await.map_err(Error::Transport)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(Error::Transport)?.to_vec();
        if status.is_success() {
            // Only successful answers are acted on, so only they must prove they came from
            // WeChat; error bodies may come from proxies that cannot sign.
            let h = NotificationHeaders::from_header_map(&headers)?;
            verify(keys, &h, &bytes, now_unix())?;
            return Ok((status.as_u16(), bytes));
        }
        Err(api_error(status, &bytes))
    }
}

fn api_error(status: StatusCode, body: &[u8]) -> Error {
    match serde_json::from_slice::<ApiError>(body) {
        Ok(e) => Error::Api {
            status: status.as_u16(),
            code: e.code,
            message: e.message,
        },
        Err(_) => Error::UnexpectedResponse {
            status: status.as_u16(),
            detail: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        },
    }
}
