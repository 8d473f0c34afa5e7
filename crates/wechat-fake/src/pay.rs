//! The WeChat Pay API v3 part of the fake: JSAPI prepay, query, close, refund, and the signed,
//! encrypted notifications WeChat POSTs to merchants.
//!
//! The cryptography here is written against `rsa`/`aes-gcm` directly and deliberately shares no
//! code with mm-wechatpay: if both sides used one implementation, a bug in it (a wrong message
//! layout, say) would sign and verify happily in tests and fail only against the real WeChat.
//!
//! The platform key is a fixed, test-only RSA key (`platform_key.pem`, made with `openssl
//! genpkey`) rather than one generated at start: 2048-bit key generation takes seconds in debug
//! builds, and a fixed key lets a merchant configured against one fake talk to another. It
//! protects nothing; it must never be anyone's real key.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{FixedOffset, SecondsFormat, Utc};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::FakeWechat;

/// The `Wechatpay-Serial` the fake signs with, shaped like WeChat's public-key ids.
pub const PLATFORM_PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";

const PLATFORM_KEY_PEM: &str = include_str!("platform_key.pem");

/// WeChat's replay window for signed requests.
const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// How long after a refund request the fake reports the refund as done.
const REFUND_DELAY: Duration = Duration::from_millis(50);

/// China Standard Time: WeChat writes every time in +08:00.
const CST: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(o) => o,
    None => panic!("+08:00 is a valid offset"),
};

pub(crate) struct Platform {
    key: RsaPrivateKey,
    public_pem: String,
}

impl Platform {
    pub(crate) fn load() -> anyhow::Result<Self> {
        let key = RsaPrivateKey::from_pkcs8_pem(PLATFORM_KEY_PEM)?;
        let public_pem = key.to_public_key().to_public_key_pem(LineEnding::LF)?;
        Ok(Self { key, public_pem })
    }

    fn sign(&self, message: &[u8]) -> String {
        let sig: Signature = SigningKey::<Sha256>::new(self.key.clone()).sign(message);
        B64.encode(sig.to_bytes())
    }

    /// The four `Wechatpay-*` headers for a body, as on every WeChat response and notification.
    fn signature_headers(&self, body: &str) -> BTreeMap<String, String> {
        let timestamp = unix_now().to_string();
        let nonce = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let signature = self.sign(format!("{timestamp}\n{nonce}\n{body}\n").as_bytes());
        BTreeMap::from([
            ("Wechatpay-Nonce".to_owned(), nonce),
            (
                "Wechatpay-Serial".to_owned(),
                PLATFORM_PUBLIC_KEY_ID.to_owned(),
            ),
            ("Wechatpay-Signature".to_owned(), signature),
            (
                "Wechatpay-Signature-Type".to_owned(),
                "WECHATPAY2-SHA256-RSA2048".to_owned(),
            ),
            ("Wechatpay-Timestamp".to_owned(), timestamp),
        ])
    }
}

struct Merchant {
    serial_no: String,
    public_key: RsaPublicKey,
    apiv3_key: [u8; 32],
    appids: HashSet<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TradeState {
    NotPay,
    Success,
    Refund,
    Closed,
}

impl TradeState {
    fn code(self) -> &'static str {
        match self {
            Self::NotPay => "NOTPAY",
            Self::Success => "SUCCESS",
            Self::Refund => "REFUND",
            Self::Closed => "CLOSED",
        }
    }
    fn desc(self) -> &'static str {
        match self {
            Self::NotPay => "订单未支付",
            Self::Success => "支付成功",
            Self::Refund => "转入退款",
            Self::Closed => "订单已关闭",
        }
    }
}

struct Txn {
    /// The prepay body as sent, to tell an identical retry from a conflicting reuse.
    request: Value,
    appid: String,
    openid: String,
    total: i64,
    attach: Option<String>,
    notify_url: String,
    prepay_id: String,
    state: TradeState,
    transaction_id: Option<String>,
    success_time: Option<String>,
    payer_total: i64,
    refunded: i64,
}

#[derive(Clone)]
struct RefundRec {
    request: Value,
    out_trade_no: String,
    refund_id: String,
    transaction_id: String,
    refund: i64,
    total: i64,
    payer_total: i64,
    payer_refund: i64,
    status: &'static str,
    create_time: String,
    success_time: Option<String>,
}

#[derive(Default)]
pub(crate) struct PayState {
    merchants: HashMap<String, Merchant>,
    /// Keyed by (mchid, out_trade_no): order numbers are unique per merchant only.
    transactions: HashMap<(String, String), Txn>,
    /// Keyed by (mchid, out_refund_no).
    refunds: HashMap<(String, String), RefundRec>,
    notifications: Vec<SentNotification>,
}

/// One notification the fake POSTed to a merchant, exactly as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentNotification {
    pub url: String,
    pub headers: BTreeMap<String, String>,
    /// The raw body; the signature covers these exact bytes.
    pub body: String,
    /// What the merchant answered, or `None` if it could not be reached.
    pub status: Option<u16>,
}

/// What `register_merchant` returns: what the merchant configures as the platform key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantRegistration {
    pub platform_public_key_id: String,
    pub platform_public_key_pem: String,
}

/// How the simulated customer pays.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PayOptions {
    /// What the customer paid after coupons; defaults to the order total.
    #[serde(default)]
    pub payer_total: Option<i64>,
    /// Sends a correctly signed notification whose amount is 1 fen more than the order, to test
    /// that merchants compare amounts instead of trusting notifications blindly.
    #[serde(default)]
    pub wrong_amount: bool,
    /// Builds and records the notification but does not send it, so a test can deliver it
    /// itself (many copies at once, as WeChat's retries can arrive).
    #[serde(default)]
    pub hold_notification: bool,
}

/// The result of a simulated payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayOutcome {
    pub notify_status: Option<u16>,
    pub notification: SentNotification,
}

/// A WeChat-format error (`{"code","message"}`), from API or control routes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct PayError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

fn pay_err(status: StatusCode, code: &'static str, message: impl Into<String>) -> PayError {
    PayError {
        status: status.as_u16(),
        code,
        message: message.into(),
    }
}

fn param_error(message: impl Into<String>) -> PayError {
    pay_err(StatusCode::BAD_REQUEST, "PARAM_ERROR", message)
}

fn sign_error(message: &str) -> PayError {
    pay_err(StatusCode::UNAUTHORIZED, "SIGN_ERROR", message)
}

fn unix_now() -> i64 {
    Utc::now().timestamp()
}

fn cst_now() -> String {
    Utc::now()
        .with_timezone(&CST)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn digits(n: usize) -> String {
    // uuid's 128 random bits as decimal give plenty of digits for ids like WeChat's.
    let mut s = uuid::Uuid::new_v4().as_u128().to_string();
    s.push_str(&uuid::Uuid::new_v4().as_u128().to_string());
    s.chars().take(n).collect()
}

fn valid_out_no(s: &str) -> bool {
    (6..=32).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '|' | '*'))
}

fn str_field<'a>(v: &'a Value, pointer: &str) -> Result<&'a str, PayError> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| param_error(format!("缺少参数 {}", &pointer[1..])))
}

fn int_field(v: &Value, pointer: &str) -> Result<i64, PayError> {
    v.pointer(pointer)
        .and_then(Value::as_i64)
        .ok_or_else(|| param_error(format!("缺少参数或类型错误 {}", &pointer[1..])))
}

impl FakeWechat {
    fn sign_response(&self, status: StatusCode, body: String) -> Response {
        let mut headers = HeaderMap::new();
        for (k, v) in self.platform.signature_headers(&body) {
            if let (Ok(name), Ok(value)) = (
                axum::http::HeaderName::try_from(k),
                HeaderValue::try_from(v),
            ) {
                headers.insert(name, value);
            }
        }
        if let Ok(id) = HeaderValue::try_from(uuid::Uuid::new_v4().to_string()) {
            headers.insert("Request-ID", id);
        }
        if !body.is_empty() {
            headers.insert(
                "Content-Type",
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
        }
        (status, headers, body).into_response()
    }

    fn error_response(&self, e: PayError) -> Response {
        let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.sign_response(
            status,
            json!({"code": e.code, "message": e.message}).to_string(),
        )
    }

    /// Checks `Authorization` the way WeChat does and returns the caller's mchid.
    fn authenticate(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<String, PayError> {
        let auth = headers
            .get("Authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| sign_error("缺少 Authorization"))?;
        let params = auth
            .strip_prefix("WECHATPAY2-SHA256-RSA2048 ")
            .ok_or_else(|| sign_error("不支持的认证类型"))?;
        let mut fields = HashMap::new();
        for part in params.split(',') {
            let Some((k, v)) = part.trim().split_once('=') else {
                return Err(sign_error("Authorization 格式错误"));
            };
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(|| sign_error("Authorization 格式错误"))?;
            fields.insert(k, v);
        }
        let field = |k: &str| {
            fields
                .get(k)
                .copied()
                .ok_or_else(|| sign_error("Authorization 缺少字段"))
        };
        let (mchid, nonce, signature, timestamp, serial) = (
            field("mchid")?,
            field("nonce_str")?,
            field("signature")?,
            field("timestamp")?,
            field("serial_no")?,
        );
        let public_key = {
            let st = self.lock();
            let m = st.pay.merchants.get(mchid).ok_or_else(|| {
                pay_err(StatusCode::BAD_REQUEST, "MCH_NOT_EXISTS", "商户号不存在")
            })?;
            if m.serial_no != serial {
                return Err(sign_error("商户证书序列号有误"));
            }
            m.public_key.clone()
        };
        let ts: i64 = timestamp
            .parse()
            .map_err(|_| sign_error("timestamp 格式错误"))?;
        if (unix_now() - ts).abs() > MAX_CLOCK_SKEW_SECS {
            return Err(sign_error("请求已过期"));
        }
        let target = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        let mut message = format!("{method}\n{target}\n{timestamp}\n{nonce}\n").into_bytes();
        message.extend_from_slice(body);
        message.push(b'\n');
        let sig = B64
            .decode(signature)
            .ok()
            .and_then(|b| Signature::try_from(b.as_slice()).ok())
            .ok_or_else(|| sign_error("签名错误"))?;
        VerifyingKey::<Sha256>::new(public_key)
            .verify(&message, &sig)
            .map_err(|_| sign_error("签名错误"))?;
        Ok(mchid.to_owned())
    }

    /// Builds the signed, encrypted notification for a resource, as WeChat would POST it.
    fn build_notification(
        &self,
        mchid: &str,
        event_type: &str,
        summary: &str,
        original_type: &str,
        resource: &Value,
    ) -> Result<(BTreeMap<String, String>, String), PayError> {
        let key = {
            let st = self.lock();
            st.pay
                .merchants
                .get(mchid)
                .map(|m| m.apiv3_key)
                .ok_or_else(|| pay_err(StatusCode::BAD_REQUEST, "MCH_NOT_EXISTS", "商户号不存在"))?
        };
        let nonce: String = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let mut nonce_bytes = [0u8; 12];
        nonce_bytes.copy_from_slice(nonce.as_bytes());
        let plaintext = resource.to_string();
        let ciphertext = Aes256Gcm::new(&key.into())
            .encrypt(
                &nonce_bytes.into(),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: original_type.as_bytes(),
                },
            )
            .map_err(|_| {
                pay_err(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "SYSTEM_ERROR",
                    "加密失败",
                )
            })?;
        let body = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "create_time": cst_now(),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": {
                "original_type": original_type,
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": B64.encode(ciphertext),
                "associated_data": original_type,
                "nonce": nonce,
            }
        })
        .to_string();
        let mut headers = self.platform.signature_headers(&body);
        headers.insert("Content-Type".into(), "application/json".into());
        Ok((headers, body))
    }

    /// POSTs a notification and records it with the merchant's answer.
    async fn deliver(
        &self,
        url: String,
        headers: BTreeMap<String, String>,
        body: String,
    ) -> SentNotification {
        // Recorded before sending, so a test that has just received it also finds it listed.
        let index = {
            let mut st = self.lock();
            st.pay.notifications.push(SentNotification {
                url: url.clone(),
                headers: headers.clone(),
                body: body.clone(),
                status: None,
            });
            st.pay.notifications.len() - 1
        };
        let mut req = self.http.post(&url).body(body.clone());
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        let status = match req.send().await {
            Ok(r) => Some(r.status().as_u16()),
            Err(e) => {
                tracing::warn!(error = %e, url, "fake WeChat Pay could not deliver a notification");
                None
            }
        };
        if let Some(n) = self.lock().pay.notifications.get_mut(index) {
            n.status = status;
        }
        SentNotification {
            url,
            headers,
            body,
            status,
        }
    }

    /// Makes a merchant known: its API certificate serial and public key, APIv3 key and the
    /// appids bound to it. Re-registering replaces the previous settings.
    pub fn register_merchant(
        &self,
        mchid: &str,
        merchant_serial_no: &str,
        merchant_public_key_pem: &str,
        apiv3_key: &str,
        appids: &[&str],
    ) -> Result<MerchantRegistration, PayError> {
        let public_key = RsaPublicKey::from_public_key_pem(merchant_public_key_pem.trim())
            .map_err(|e| param_error(format!("merchant_public_key_pem: {e}")))?;
        let apiv3_key = <[u8; 32]>::try_from(apiv3_key.as_bytes())
            .map_err(|_| param_error("apiv3_key must be 32 bytes"))?;
        self.lock().pay.merchants.insert(
            mchid.to_owned(),
            Merchant {
                serial_no: merchant_serial_no.to_owned(),
                public_key,
                apiv3_key,
                appids: appids.iter().map(|a| (*a).to_owned()).collect(),
            },
        );
        Ok(MerchantRegistration {
            platform_public_key_id: PLATFORM_PUBLIC_KEY_ID.to_owned(),
            platform_public_key_pem: self.platform.public_pem.clone(),
        })
    }

    /// The platform public key merchants verify the fake's signatures with.
    pub fn platform_public_key_pem(&self) -> String {
        self.platform.public_pem.clone()
    }

    /// The customer confirms payment in WeChat: the order becomes SUCCESS and the
    /// TRANSACTION.SUCCESS notification is POSTed to its notify_url before this returns.
    pub async fn pay(&self, out_trade_no: &str, mchid: &str) -> Result<PayOutcome, PayError> {
        self.pay_with(out_trade_no, mchid, PayOptions::default())
            .await
    }

    /// [`FakeWechat::pay`] with a chosen payer total or a deliberately wrong notified amount.
    pub async fn pay_with(
        &self,
        out_trade_no: &str,
        mchid: &str,
        options: PayOptions,
    ) -> Result<PayOutcome, PayError> {
        let (url, mut resource) = {
            let mut st = self.lock();
            let t = st
                .pay
                .transactions
                .get_mut(&(mchid.to_owned(), out_trade_no.to_owned()))
                .ok_or_else(|| pay_err(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"))?;
            match t.state {
                TradeState::NotPay => {}
                TradeState::Closed => {
                    return Err(pay_err(
                        StatusCode::BAD_REQUEST,
                        "ORDER_CLOSED",
                        "订单已关闭",
                    ));
                }
                TradeState::Success | TradeState::Refund => {
                    return Err(pay_err(StatusCode::BAD_REQUEST, "ORDERPAID", "订单已支付"));
                }
            }
            t.state = TradeState::Success;
            t.transaction_id = Some(format!("4200{}", digits(24)));
            t.success_time = Some(cst_now());
            t.payer_total = options.payer_total.unwrap_or(t.total);
            (
                t.notify_url.clone(),
                transaction_json(mchid, out_trade_no, t),
            )
        };
        if options.wrong_amount {
            resource["amount"]["total"] =
                json!(resource["amount"]["total"].as_i64().unwrap_or(0) + 1);
            resource["amount"]["payer_total"] =
                json!(resource["amount"]["payer_total"].as_i64().unwrap_or(0) + 1);
        }
        let (headers, body) = self.build_notification(
            mchid,
            "TRANSACTION.SUCCESS",
            "支付成功",
            "transaction",
            &resource,
        )?;
        if options.hold_notification {
            return Ok(PayOutcome {
                notify_status: None,
                notification: SentNotification {
                    url,
                    headers,
                    body,
                    status: None,
                },
            });
        }
        let sent = self.deliver(url, headers, body).await;
        Ok(PayOutcome {
            notify_status: sent.status,
            notification: sent,
        })
    }

    /// Every notification sent so far (payments and refunds), oldest first.
    pub fn notifications(&self) -> Vec<SentNotification> {
        self.lock().pay.notifications.clone()
    }

    fn prepay(&self, mchid: &str, body: &[u8]) -> Result<Value, PayError> {
        let req: Value =
            serde_json::from_slice(body).map_err(|_| param_error("请求体不是合法的 JSON"))?;
        let appid = str_field(&req, "/appid")?;
        let body_mchid = str_field(&req, "/mchid")?;
        str_field(&req, "/description")?;
        let out_trade_no = str_field(&req, "/out_trade_no")?;
        let notify_url = str_field(&req, "/notify_url")?;
        let total = int_field(&req, "/amount/total")?;
        let openid = str_field(&req, "/payer/openid")?;
        if body_mchid != mchid {
            return Err(param_error("mchid 与请求签名中的商户号不一致"));
        }
        if !valid_out_no(out_trade_no) {
            return Err(param_error("out_trade_no 格式错误"));
        }
        if total <= 0 {
            return Err(param_error("amount.total 必须大于 0"));
        }
        if req.pointer("/amount/currency").is_some_and(|c| c != "CNY") {
            return Err(param_error("amount.currency 只支持 CNY"));
        }
        // Real WeChat also requires https; the fake allows http so tests can receive locally.
        if !(notify_url.starts_with("https://") || notify_url.starts_with("http://")) {
            return Err(param_error("notify_url 格式错误"));
        }
        let mut st = self.lock();
        let bound = st
            .pay
            .merchants
            .get(mchid)
            .is_some_and(|m| m.appids.contains(appid));
        if !bound {
            return Err(pay_err(
                StatusCode::BAD_REQUEST,
                "APPID_MCHID_NOT_MATCH",
                "appid和mch_id不匹配",
            ));
        }
        let key = (mchid.to_owned(), out_trade_no.to_owned());
        if let Some(t) = st.pay.transactions.get(&key) {
            if t.request != req {
                return Err(pay_err(
                    StatusCode::BAD_REQUEST,
                    "INVALID_REQUEST",
                    "201 商户订单号重复",
                ));
            }
            return match t.state {
                TradeState::NotPay => Ok(json!({"prepay_id": t.prepay_id})),
                TradeState::Closed => Err(pay_err(
                    StatusCode::BAD_REQUEST,
                    "ORDER_CLOSED",
                    "订单已关闭",
                )),
                TradeState::Success | TradeState::Refund => {
                    Err(pay_err(StatusCode::BAD_REQUEST, "ORDERPAID", "订单已支付"))
                }
            };
        }
        let prepay_id = format!(
            "wx{}{}",
            Utc::now().with_timezone(&CST).format("%d%H%M%S%3f"),
            digits(20)
        );
        let txn = Txn {
            appid: appid.to_owned(),
            openid: openid.to_owned(),
            total,
            attach: req.get("attach").and_then(Value::as_str).map(str::to_owned),
            notify_url: notify_url.to_owned(),
            prepay_id: prepay_id.clone(),
            state: TradeState::NotPay,
            transaction_id: None,
            success_time: None,
            payer_total: 0,
            refunded: 0,
            request: req,
        };
        st.pay.transactions.insert(key, txn);
        Ok(json!({"prepay_id": prepay_id}))
    }

    fn query(
        &self,
        mchid: &str,
        out_trade_no: &str,
        query_mchid: Option<&str>,
    ) -> Result<Value, PayError> {
        if query_mchid != Some(mchid) {
            return Err(param_error("mchid 与请求签名中的商户号不一致"));
        }
        let st = self.lock();
        st.pay
            .transactions
            .get(&(mchid.to_owned(), out_trade_no.to_owned()))
            .map(|t| transaction_json(mchid, out_trade_no, t))
            .ok_or_else(|| pay_err(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"))
    }

    fn close(&self, mchid: &str, out_trade_no: &str, body: &[u8]) -> Result<(), PayError> {
        let req: Value =
            serde_json::from_slice(body).map_err(|_| param_error("请求体不是合法的 JSON"))?;
        if str_field(&req, "/mchid")? != mchid {
            return Err(param_error("mchid 与请求签名中的商户号不一致"));
        }
        let mut st = self.lock();
        let t = st
            .pay
            .transactions
            .get_mut(&(mchid.to_owned(), out_trade_no.to_owned()))
            .ok_or_else(|| pay_err(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"))?;
        match t.state {
            TradeState::Success | TradeState::Refund => {
                Err(pay_err(StatusCode::BAD_REQUEST, "ORDERPAID", "订单已支付"))
            }
            TradeState::NotPay | TradeState::Closed => {
                t.state = TradeState::Closed;
                Ok(())
            }
        }
    }

    /// Records a refund and returns (answer, notify_url to report the result to).
    fn refund(
        &self,
        mchid: &str,
        body: &[u8],
    ) -> Result<(Value, Option<String>, String), PayError> {
        let req: Value =
            serde_json::from_slice(body).map_err(|_| param_error("请求体不是合法的 JSON"))?;
        let out_trade_no = str_field(&req, "/out_trade_no")
            .map_err(|_| param_error("缺少参数 out_trade_no（fake 不支持 transaction_id）"))?;
        let out_refund_no = str_field(&req, "/out_refund_no")?;
        let refund = int_field(&req, "/amount/refund")?;
        let total = int_field(&req, "/amount/total")?;
        let notify_url = req
            .get("notify_url")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if !valid_out_no(out_refund_no) {
            return Err(param_error("out_refund_no 格式错误"));
        }
        if req.pointer("/amount/currency").and_then(Value::as_str) != Some("CNY") {
            return Err(param_error("amount.currency 必须为 CNY"));
        }
        let mut st = self.lock();
        let refund_key = (mchid.to_owned(), out_refund_no.to_owned());
        if let Some(r) = st.pay.refunds.get(&refund_key) {
            if r.request != req {
                return Err(pay_err(
                    StatusCode::BAD_REQUEST,
                    "INVALID_REQUEST",
                    "商户退款单号重复且参数不一致",
                ));
            }
            return Ok((
                refund_json(out_refund_no, r),
                None,
                out_refund_no.to_owned(),
            ));
        }
        let t = st
            .pay
            .transactions
            .get_mut(&(mchid.to_owned(), out_trade_no.to_owned()))
            .ok_or_else(|| pay_err(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"))?;
        if !matches!(t.state, TradeState::Success | TradeState::Refund) {
            return Err(pay_err(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "订单未支付，不能退款",
            ));
        }
        if total != t.total {
            return Err(param_error("amount.total 与原订单金额不一致"));
        }
        if refund <= 0 {
            return Err(param_error("amount.refund 必须大于 0"));
        }
        if refund > t.total - t.refunded {
            return Err(pay_err(
                StatusCode::FORBIDDEN,
                "NOT_ENOUGH",
                "申请退款金额超过订单可退金额",
            ));
        }
        t.refunded += refund;
        t.state = TradeState::Refund;
        let rec = RefundRec {
            request: req.clone(),
            out_trade_no: out_trade_no.to_owned(),
            refund_id: format!("5030{}", digits(25)),
            transaction_id: t.transaction_id.clone().unwrap_or_default(),
            refund,
            total: t.total,
            payer_total: t.payer_total,
            // Coupons are refunded proportionally; the payer gets their share back.
            payer_refund: refund * t.payer_total / t.total.max(1),
            status: "PROCESSING",
            create_time: cst_now(),
            success_time: None,
        };
        let answer = refund_json(out_refund_no, &rec);
        st.pay.refunds.insert(refund_key, rec);
        Ok((answer, notify_url, out_refund_no.to_owned()))
    }

    /// Finishes a refund after [`REFUND_DELAY`] and notifies the merchant, as WeChat does.
    fn complete_refund_later(&self, mchid: String, out_refund_no: String, notify_url: String) {
        let fake = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(REFUND_DELAY).await;
            let resource = {
                let mut st = fake.lock();
                let Some(r) = st
                    .pay
                    .refunds
                    .get_mut(&(mchid.clone(), out_refund_no.clone()))
                else {
                    return;
                };
                r.status = "SUCCESS";
                r.success_time = Some(cst_now());
                json!({
                    "mchid": mchid,
                    "out_trade_no": r.out_trade_no,
                    "transaction_id": r.transaction_id,
                    "out_refund_no": out_refund_no,
                    "refund_id": r.refund_id,
                    "refund_status": "SUCCESS",
                    "success_time": r.success_time,
                    "user_received_account": "支付用户零钱",
                    "amount": {
                        "total": r.total,
                        "refund": r.refund,
                        "payer_total": r.payer_total,
                        "payer_refund": r.payer_refund,
                    }
                })
            };
            match fake.build_notification(&mchid, "REFUND.SUCCESS", "退款成功", "refund", &resource)
            {
                Ok((headers, body)) => {
                    fake.deliver(notify_url, headers, body).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "fake WeChat Pay could not build a refund notification")
                }
            }
        });
    }
}

fn transaction_json(mchid: &str, out_trade_no: &str, t: &Txn) -> Value {
    let mut v = json!({
        "appid": t.appid,
        "mchid": mchid,
        "out_trade_no": out_trade_no,
        "trade_state": t.state.code(),
        "trade_state_desc": t.state.desc(),
        "promotion_detail": [],
        "scene_info": {"device_id": ""},
    });
    if let Some(a) = &t.attach {
        v["attach"] = json!(a);
    }
    // An unpaid or closed order has no payment yet, and WeChat leaves those fields out.
    match (&t.transaction_id, t.state) {
        (Some(id), TradeState::Success | TradeState::Refund) => {
            v["transaction_id"] = json!(id);
            v["trade_type"] = json!("JSAPI");
            v["bank_type"] = json!("OTHERS");
            v["success_time"] = json!(t.success_time);
            v["payer"] = json!({"openid": t.openid});
            v["amount"] = json!({
                "total": t.total,
                "payer_total": t.payer_total,
                "currency": "CNY",
                "payer_currency": "CNY",
            });
        }
        _ => v["amount"] = json!({"total": t.total, "payer_currency": "CNY"}),
    }
    v
}

fn refund_json(out_refund_no: &str, r: &RefundRec) -> Value {
    json!({
        "refund_id": r.refund_id,
        "out_refund_no": out_refund_no,
        "transaction_id": r.transaction_id,
        "out_trade_no": r.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "success_time": r.success_time,
        "create_time": r.create_time,
        "status": r.status,
        "funds_account": "AVAILABLE",
        "amount": {
            "total": r.total,
            "refund": r.refund,
            "payer_total": r.payer_total,
            "payer_refund": r.payer_refund,
            "settlement_refund": r.refund,
            "settlement_total": r.total,
            "discount_refund": r.refund - r.payer_refund,
            "currency": "CNY",
            "refund_fee": 0,
            "from": [],
        },
        "promotion_detail": [],
    })
}

// ---- HTTP handlers: thin wrappers that authenticate, call the methods above, and sign. ----

pub(crate) async fn prepay_route(
    State(s): State<FakeWechat>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let r = s
        .authenticate(&method, &uri, &headers, &body)
        .and_then(|mchid| s.prepay(&mchid, &body));
    match r {
        Ok(v) => s.sign_response(StatusCode::OK, v.to_string()),
        Err(e) => s.error_response(e),
    }
}

#[derive(Deserialize)]
pub(crate) struct MchidQuery {
    mchid: Option<String>,
}

pub(crate) async fn query_route(
    State(s): State<FakeWechat>,
    Path(out_trade_no): Path<String>,
    Query(q): Query<MchidQuery>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let r = s
        .authenticate(&method, &uri, &headers, b"")
        .and_then(|mchid| s.query(&mchid, &out_trade_no, q.mchid.as_deref()));
    match r {
        Ok(v) => s.sign_response(StatusCode::OK, v.to_string()),
        Err(e) => s.error_response(e),
    }
}

pub(crate) async fn close_route(
    State(s): State<FakeWechat>,
    Path(out_trade_no): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let r = s
        .authenticate(&method, &uri, &headers, &body)
        .and_then(|mchid| s.close(&mchid, &out_trade_no, &body));
    match r {
        Ok(()) => s.sign_response(StatusCode::NO_CONTENT, String::new()),
        Err(e) => s.error_response(e),
    }
}

pub(crate) async fn refund_route(
    State(s): State<FakeWechat>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let r = s
        .authenticate(&method, &uri, &headers, &body)
        .and_then(|mchid| {
            s.refund(&mchid, &body)
                .map(|(v, url, no)| (mchid, v, url, no))
        });
    match r {
        Ok((mchid, v, notify_url, out_refund_no)) => {
            if let Some(url) = notify_url {
                s.complete_refund_later(mchid, out_refund_no, url);
            }
            s.sign_response(StatusCode::OK, v.to_string())
        }
        Err(e) => s.error_response(e),
    }
}

#[derive(Deserialize)]
pub(crate) struct MerchantBody {
    mchid: String,
    merchant_serial_no: String,
    merchant_public_key_pem: String,
    apiv3_key: String,
    #[serde(default)]
    appids: Vec<String>,
}

pub(crate) async fn register_merchant_route(
    State(s): State<FakeWechat>,
    axum::Json(b): axum::Json<MerchantBody>,
) -> Response {
    let appids: Vec<&str> = b.appids.iter().map(String::as_str).collect();
    match s.register_merchant(
        &b.mchid,
        &b.merchant_serial_no,
        &b.merchant_public_key_pem,
        &b.apiv3_key,
        &appids,
    ) {
        Ok(r) => axum::Json(r).into_response(),
        Err(e) => s.error_response(e),
    }
}

#[derive(Deserialize)]
pub(crate) struct PayBody {
    mchid: String,
    #[serde(flatten)]
    options: PayOptions,
}

pub(crate) async fn pay_route(
    State(s): State<FakeWechat>,
    Path(out_trade_no): Path<String>,
    axum::Json(b): axum::Json<PayBody>,
) -> Response {
    match s.pay_with(&out_trade_no, &b.mchid, b.options).await {
        Ok(o) => axum::Json(o).into_response(),
        Err(e) => s.error_response(e),
    }
}

pub(crate) async fn notifications_route(State(s): State<FakeWechat>) -> Response {
    axum::Json(s.notifications()).into_response()
}
