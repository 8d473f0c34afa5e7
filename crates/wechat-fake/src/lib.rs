//! mm-wechat-fake: WeChat's servers cannot be reached from here, so tests and the demo talk to this
//! stand-in instead. It speaks WeChat's real request and response formats and error codes for the
//! calls the platform makes:
//!
//! - `GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code`
//! - `GET /cgi-bin/token?grant_type=client_credential&appid&secret`
//! - `POST /wxa/business/getuserphonenumber?access_token=...` with `{"code": ...}`
//! - `POST /cgi-bin/message/subscribe/send?access_token=...` (see `subscribe.rs`)
//!
//! and, on the same base URL, WeChat Pay API v3 (api.mch.weixin.qq.com) for JSAPI payments, with
//! real request signature checks, signed responses and AES-GCM encrypted notifications (see
//! `pay.rs`):
//!
//! - `POST /v3/pay/transactions/jsapi`, `GET /v3/pay/transactions/out-trade-no/{no}?mchid=`,
//!   `POST /v3/pay/transactions/out-trade-no/{no}/close`, `POST /v3/refund/domestic/refunds`
//!
//! What the real servers decide on their own (which codes exist) is set up through control routes
//! under `/__fake/`: register an app, mint a login code (what `wx.login` returns on a phone) or a
//! phone code (what the getPhoneNumber button returns), and read call counts. For payments:
//! `POST /__fake/pay/merchants` registers a merchant, `POST /__fake/pay/transactions/{no}/pay`
//! is the customer confirming payment (the notification is sent before it answers), and
//! `GET /__fake/pay/notifications` lists every notification sent. Subscribe messages:
//! `POST /__fake/subscribe/templates` and `/__fake/subscribe/grants` (a user's acceptance), and
//! `GET /__fake/subscribe/messages` lists what was sent.
//!
//! It must never be reachable in production: the server starts it only in dev mode.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

mod pay;
mod subscribe;

pub use pay::{
    MerchantRegistration, PLATFORM_PUBLIC_KEY_ID, PayError, PayOptions, PayOutcome,
    SentNotification,
};
pub use subscribe::SentMessage;

#[derive(Default)]
struct Inner {
    apps: HashMap<String, String>,
    login_codes: HashMap<String, (String, String, Option<String>)>,
    phone_codes: HashMap<String, (String, String)>,
    used_codes: HashSet<String>,
    access_tokens: HashMap<String, String>,
    calls: HashMap<&'static str, u64>,
    pay: pay::PayState,
    subscribe: subscribe::SubscribeState,
}

/// A running fake.
#[derive(Clone)]
pub struct FakeWechat {
    /// Base URL to configure as `wechat.base_url`.
    pub base_url: String,
    inner: Arc<Mutex<Inner>>,
    platform: Arc<pay::Platform>,
    /// Sends payment notifications to merchants.
    http: reqwest::Client,
}

fn err(code: i64, msg: &str) -> Json<Value> {
    Json(json!({"errcode": code, "errmsg": msg}))
}

/// Codes that make the fake answer with WeChat's rate-limit error, to test that path.
pub const RATE_LIMITED_CODE: &str = "fake-rate-limited";

#[derive(Deserialize)]
struct SessionQuery {
    appid: Option<String>,
    secret: Option<String>,
    js_code: Option<String>,
    grant_type: Option<String>,
}

async fn code2session(State(s): State<FakeWechat>, Query(q): Query<SessionQuery>) -> Json<Value> {
    let mut st = s.lock();
    *st.calls.entry("code2session").or_default() += 1;
    if q.grant_type.as_deref() != Some("authorization_code") {
        return err(40002, "invalid grant_type");
    }
    let (Some(appid), Some(secret), Some(code)) = (q.appid, q.secret, q.js_code) else {
        return err(41008, "missing code");
    };
    match st.apps.get(&appid) {
        None => return err(40013, "invalid appid"),
        Some(s) if *s != secret => return err(40125, "invalid appsecret"),
        Some(_) => {}
    }
    if code == RATE_LIMITED_CODE {
        return err(
            45011,
            "api minute-quota reach limit  mustslower  retry next minute",
        );
    }
    if st.used_codes.contains(&code) {
        return err(40163, "code been used");
    }
    let Some((code_app, openid, unionid)) = st.login_codes.get(&code).cloned() else {
        return err(40029, "invalid code");
    };
    if code_app != appid {
        return err(40029, "invalid code");
    }
    st.used_codes.insert(code);
    let mut body =
        json!({"openid": openid, "session_key": format!("sk-{}", uuid::Uuid::new_v4().simple())});
    if let Some(u) = unionid {
        body["unionid"] = json!(u);
    }
    Json(body)
}

#[derive(Deserialize)]
struct TokenQuery {
    grant_type: Option<String>,
    appid: Option<String>,
    secret: Option<String>,
}

async fn token(State(s): State<FakeWechat>, Query(q): Query<TokenQuery>) -> Json<Value> {
    let mut st = s.lock();
    *st.calls.entry("token").or_default() += 1;
    if q.grant_type.as_deref() != Some("client_credential") {
        return err(40002, "invalid grant_type");
    }
    let (Some(appid), Some(secret)) = (q.appid, q.secret) else {
        return err(41002, "appid missing");
    };
    match st.apps.get(&appid) {
        None => return err(40013, "invalid appid"),
        Some(s) if *s != secret => return err(40125, "invalid appsecret"),
        Some(_) => {}
    }
    let t = format!("at-{}", uuid::Uuid::new_v4().simple());
    st.access_tokens.insert(t.clone(), appid);
    Json(json!({"access_token": t, "expires_in": 7200}))
}

#[derive(Deserialize)]
pub(crate) struct AccessTokenQuery {
    pub(crate) access_token: Option<String>,
}

#[derive(Deserialize)]
struct PhoneBody {
    code: Option<String>,
}

async fn phone(
    State(s): State<FakeWechat>,
    Query(q): Query<AccessTokenQuery>,
    Json(body): Json<PhoneBody>,
) -> Json<Value> {
    let mut st = s.lock();
    *st.calls.entry("getuserphonenumber").or_default() += 1;
    let Some(appid) = q
        .access_token
        .and_then(|t| st.access_tokens.get(&t).cloned())
    else {
        return err(
            40001,
            "invalid credential, access_token is invalid or not latest",
        );
    };
    let Some(code) = body.code else {
        return err(41008, "missing code");
    };
    if st.used_codes.contains(&code) {
        return err(40163, "code been used");
    }
    let Some((code_app, number)) = st.phone_codes.get(&code).cloned() else {
        return err(40029, "invalid code");
    };
    if code_app != appid {
        return err(40029, "invalid code");
    }
    st.used_codes.insert(code);
    Json(json!({
        "errcode": 0,
        "errmsg": "ok",
        "phone_info": {
            "phoneNumber": number,
            "purePhoneNumber": number,
            "countryCode": "86",
            "watermark": {"timestamp": 1_700_000_000u64, "appid": appid}
        }
    }))
}

#[derive(Deserialize)]
struct AppBody {
    appid: String,
    secret: String,
}

#[derive(Deserialize)]
struct LoginCodeBody {
    appid: String,
    openid: String,
    unionid: Option<String>,
}

#[derive(Deserialize)]
struct PhoneCodeBody {
    appid: String,
    phone: String,
}

impl FakeWechat {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Starts the fake on `addr` (port 0 for any).
    pub async fn start(addr: SocketAddr) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let fake = Self {
            base_url,
            inner: Arc::default(),
            platform: Arc::new(pay::Platform::load()?),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()?,
        };
        let app = Router::new()
            .route("/sns/jscode2session", get(code2session))
            .route("/cgi-bin/token", get(token))
            .route("/wxa/business/getuserphonenumber", post(phone))
            .route("/cgi-bin/message/subscribe/send", post(subscribe::send_route))
            .route("/__fake/apps", post(|State(s): State<FakeWechat>, Json(b): Json<AppBody>| async move {
                s.register_app(&b.appid, &b.secret);
                Json(json!({"ok": true}))
            }))
            .route("/__fake/login-codes", post(|State(s): State<FakeWechat>, Json(b): Json<LoginCodeBody>| async move {
                Json(json!({"code": s.login_code(&b.appid, &b.openid, b.unionid.as_deref())}))
            }))
            .route("/__fake/phone-codes", post(|State(s): State<FakeWechat>, Json(b): Json<PhoneCodeBody>| async move {
                Json(json!({"code": s.phone_code(&b.appid, &b.phone)}))
            }))
            .route("/v3/pay/transactions/jsapi", post(pay::prepay_route))
            .route("/v3/pay/transactions/out-trade-no/{out_trade_no}", get(pay::query_route))
            .route("/v3/pay/transactions/out-trade-no/{out_trade_no}/close", post(pay::close_route))
            .route("/v3/refund/domestic/refunds", post(pay::refund_route))
            .route("/__fake/pay/merchants", post(pay::register_merchant_route))
            .route("/__fake/pay/transactions/{out_trade_no}/pay", post(pay::pay_route))
            .route("/__fake/pay/notifications", get(pay::notifications_route))
            .route("/__fake/subscribe/templates", post(subscribe::template_route))
            .route("/__fake/subscribe/grants", post(subscribe::grant_route))
            .route("/__fake/subscribe/messages", get(subscribe::sent_route))
            .with_state(fake.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "fake WeChat stopped");
            }
        });
        Ok(fake)
    }

    /// Makes an appid/secret pair valid.
    pub fn register_app(&self, appid: &str, secret: &str) {
        self.lock().apps.insert(appid.into(), secret.into());
    }

    /// A fresh login code for a user, as `wx.login` would return on their phone.
    pub fn login_code(&self, appid: &str, openid: &str, unionid: Option<&str>) -> String {
        let code = format!("lc-{}", uuid::Uuid::new_v4().simple());
        self.lock().login_codes.insert(
            code.clone(),
            (appid.into(), openid.into(), unionid.map(Into::into)),
        );
        code
    }

    /// A fresh phone code, as the getPhoneNumber button would return.
    pub fn phone_code(&self, appid: &str, phone: &str) -> String {
        let code = format!("pc-{}", uuid::Uuid::new_v4().simple());
        self.lock()
            .phone_codes
            .insert(code.clone(), (appid.into(), phone.into()));
        code
    }

    /// Forgets every access token issued, as WeChat does when one is refreshed elsewhere.
    pub fn expire_access_tokens(&self) {
        self.lock().access_tokens.clear();
    }

    /// How many times an endpoint was called: "code2session", "token", "getuserphonenumber",
    /// "subscribe_send".
    pub fn calls(&self, endpoint: &str) -> u64 {
        self.lock().calls.get(endpoint).copied().unwrap_or(0)
    }
}
