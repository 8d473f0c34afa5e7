//! Subscribe messages (`POST /cgi-bin/message/subscribe/send`), as WeChat checks them: a valid
//! access token, a template the app owns, every key the template declares with a value that fits
//! its kind, and a one-time subscription the user granted with `wx.requestSubscribeMessage` (each
//! acceptance allows one message; without one WeChat answers 43101).
//!
//! Control: register a template with its keys, grant a user one acceptance (what tapping "allow"
//! in the consent sheet does), make the next sends fail with a given errcode, list what was sent.

use std::collections::{HashMap, VecDeque};

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{AccessTokenQuery, FakeWechat, err};

/// A message the fake accepted, as the user would receive it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SentMessage {
    /// The mini-program it came from.
    pub appid: String,
    /// The recipient's openid.
    pub touser: String,
    /// Template id.
    pub template_id: String,
    /// The page it opens.
    pub page: String,
    /// Key → value.
    pub data: HashMap<String, String>,
}

#[derive(Default)]
pub(crate) struct SubscribeState {
    /// (appid, template id) → the template's keys.
    templates: HashMap<(String, String), Vec<String>>,
    /// (appid, openid, template id) → acceptances not yet used.
    grants: HashMap<(String, String, String), u32>,
    /// Errcodes the next sends answer with, in order.
    failures: VecDeque<i64>,
    sent: Vec<SentMessage>,
}

#[derive(Deserialize)]
pub(crate) struct SendBody {
    touser: Option<String>,
    template_id: Option<String>,
    #[serde(default)]
    page: String,
    #[serde(default)]
    data: HashMap<String, Value>,
}

/// WeChat's limits per key kind (the key's letters: thing1 → "thing").
fn check_value(key: &str, value: &str) -> bool {
    let kind: String = key
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let n = value.chars().count();
    match kind.as_str() {
        "thing" => (1..=20).contains(&n),
        "time" | "date" => (1..=32).contains(&n) && value.chars().any(|c| c.is_ascii_digit()),
        "name" | "phrase" => (1..=10).contains(&n),
        "character_string" => (1..=32).contains(&n),
        _ => (1..=20).contains(&n),
    }
}

pub(crate) async fn send_route(
    State(s): State<FakeWechat>,
    Query(q): Query<AccessTokenQuery>,
    Json(b): Json<SendBody>,
) -> Json<Value> {
    let mut st = s.lock();
    *st.calls.entry("subscribe_send").or_default() += 1;
    let Some(appid) = q
        .access_token
        .and_then(|t| st.access_tokens.get(&t).cloned())
    else {
        return err(
            40001,
            "invalid credential, access_token is invalid or not latest",
        );
    };
    if let Some(code) = st.subscribe.failures.pop_front() {
        return err(code, "fake failure");
    }
    let (Some(touser), Some(template_id)) = (b.touser, b.template_id) else {
        return err(47001, "data format error");
    };
    let Some(keys) = st
        .subscribe
        .templates
        .get(&(appid.clone(), template_id.clone()))
        .cloned()
    else {
        return err(40037, "invalid template_id");
    };
    let mut data = HashMap::new();
    for key in &keys {
        let Some(value) = b
            .data
            .get(key)
            .and_then(|v| v.get("value"))
            .and_then(Value::as_str)
        else {
            return err(
                47003,
                &format!("argument invalid! data.{key}.value is empty"),
            );
        };
        if !check_value(key, value) {
            return err(
                47003,
                &format!("argument invalid! data.{key}.value invalid"),
            );
        }
        data.insert(key.clone(), value.to_string());
    }
    let grant = (appid.clone(), touser.clone(), template_id.clone());
    match st.subscribe.grants.get_mut(&grant) {
        Some(n) if *n > 0 => *n -= 1,
        _ => return err(43101, "user refuse to accept the msg"),
    }
    st.subscribe.sent.push(SentMessage {
        appid,
        touser,
        template_id,
        page: b.page,
        data,
    });
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}

impl FakeWechat {
    /// Declares a subscribe-message template of `appid` with its keys ("thing1", "time2", ...).
    pub fn register_template(&self, appid: &str, template_id: &str, keys: &[&str]) {
        self.lock().subscribe.templates.insert(
            (appid.into(), template_id.into()),
            keys.iter().map(|k| k.to_string()).collect(),
        );
    }

    /// The user tapped "allow" for the template once: one message may be sent.
    pub fn grant_subscription(&self, appid: &str, openid: &str, template_id: &str) {
        *self
            .lock()
            .subscribe
            .grants
            .entry((appid.into(), openid.into(), template_id.into()))
            .or_default() += 1;
    }

    /// The next sends answer with these errcodes, one each (e.g. -1: system busy).
    pub fn fail_next_sends(&self, errcodes: &[i64]) {
        self.lock().subscribe.failures.extend(errcodes);
    }

    /// Every subscribe message accepted so far.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        self.lock().subscribe.sent.clone()
    }
}

#[derive(Deserialize)]
pub(crate) struct TemplateBody {
    appid: String,
    template_id: String,
    keys: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct GrantBody {
    appid: String,
    openid: String,
    template_id: String,
}

pub(crate) async fn template_route(
    State(s): State<FakeWechat>,
    Json(b): Json<TemplateBody>,
) -> Json<Value> {
    let keys: Vec<&str> = b.keys.iter().map(String::as_str).collect();
    s.register_template(&b.appid, &b.template_id, &keys);
    Json(json!({"ok": true}))
}

pub(crate) async fn grant_route(
    State(s): State<FakeWechat>,
    Json(b): Json<GrantBody>,
) -> Json<Value> {
    s.grant_subscription(&b.appid, &b.openid, &b.template_id);
    Json(json!({"ok": true}))
}

pub(crate) async fn sent_route(State(s): State<FakeWechat>) -> Json<Vec<SentMessage>> {
    Json(s.sent_messages())
}
