//! Client for the WeChat server APIs the platform calls, at a configurable base URL (WeChat's own
//! in production, the local fake in tests and the demo). WeChat answers errors as HTTP 200 with an
//! `errcode`; each code we know is mapped to a clear error here.

use std::time::Duration;

use serde::Deserialize;

use crate::error::IdentityError;

/// What code2session returns. The session key stays on the server: nothing here sends it out.
#[derive(Debug, Clone, Deserialize)]
pub struct Session {
    /// The user's openid in this mini-program.
    pub openid: String,
    /// The user's unionid, when the mini-program is bound to an open platform account.
    #[serde(default)]
    pub unionid: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    openid: Option<String>,
    unionid: Option<String>,
    access_token: Option<String>,
    expires_in: Option<u64>,
    phone_info: Option<PhoneInfo>,
}

#[derive(Deserialize)]
struct PhoneInfo {
    #[serde(rename = "purePhoneNumber")]
    pure_phone_number: String,
    #[serde(rename = "countryCode", default)]
    country_code: String,
}

/// An access token and its lifetime in seconds.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The token.
    pub token: String,
    /// Seconds it is valid for.
    pub expires_in: u64,
}

/// The WeChat API client.
#[derive(Clone, Debug)]
pub struct WechatClient {
    http: reqwest::Client,
    base: String,
}

fn map_errcode(code: i64, msg: &str) -> IdentityError {
    match code {
        40029 | 40163 | 40226 => IdentityError::InvalidWechatCode,
        40013 | 40125 | 41002 | 41004 => IdentityError::WechatCredentials,
        45011 | -1 => IdentityError::WechatBusy,
        _ => IdentityError::WechatUnavailable(format!("errcode {code}: {msg}")),
    }
}

impl WechatClient {
    /// A client for `base` (no trailing slash needed).
    pub fn new(base: &str, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(timeout).build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<Envelope, IdentityError> {
        let res = req
            .send()
            .await
            .map_err(|e| IdentityError::WechatUnavailable(e.without_url().to_string()))?;
        if !res.status().is_success() {
            return Err(IdentityError::WechatUnavailable(format!(
                "HTTP {}",
                res.status()
            )));
        }
        let env: Envelope = res.json().await.map_err(|e| {
            IdentityError::WechatUnavailable(format!("unreadable answer: {}", e.without_url()))
        })?;
        if env.errcode != 0 {
            return Err(map_errcode(env.errcode, &env.errmsg));
        }
        Ok(env)
    }

    /// Exchanges a wx.login code for the user's openid.
    pub async fn code2session(
        &self,
        appid: &str,
        secret: &str,
        code: &str,
    ) -> Result<Session, IdentityError> {
        let req = self
            .http
            .get(format!("{}/sns/jscode2session", self.base))
            .query(&[
                ("appid", appid),
                ("secret", secret),
                ("js_code", code),
                ("grant_type", "authorization_code"),
            ]);
        let env = self.call(req).await?;
        let openid = env
            .openid
            .filter(|o| !o.is_empty())
            .ok_or_else(|| IdentityError::WechatUnavailable("no openid".into()))?;
        Ok(Session {
            openid,
            unionid: env.unionid.filter(|u| !u.is_empty()),
        })
    }

    /// Fetches an access token for server-to-server calls.
    pub async fn access_token(
        &self,
        appid: &str,
        secret: &str,
    ) -> Result<AccessToken, IdentityError> {
        let req = self
            .http
            .get(format!("{}/cgi-bin/token", self.base))
            .query(&[
                ("grant_type", "client_credential"),
                ("appid", appid),
                ("secret", secret),
            ]);
        let env = self.call(req).await?;
        let token = env
            .access_token
            .ok_or_else(|| IdentityError::WechatUnavailable("no access_token".into()))?;
        Ok(AccessToken {
            token,
            expires_in: env.expires_in.unwrap_or(7200),
        })
    }

    /// Turns a getPhoneNumber code into the phone number; `Ok(None)` means the access token was
    /// refused (expired or replaced) and the caller should fetch a new one.
    pub async fn phone_number(
        &self,
        access_token: &str,
        code: &str,
    ) -> Result<Option<String>, IdentityError> {
        let req = self
            .http
            .post(format!("{}/wxa/business/getuserphonenumber", self.base))
            .query(&[("access_token", access_token)])
            .json(&serde_json::json!({"code": code}));
        match self.call(req).await {
            Ok(env) => {
                let info = env
                    .phone_info
                    .ok_or_else(|| IdentityError::WechatUnavailable("no phone_info".into()))?;
                let number = if info.country_code.is_empty() || info.country_code == "86" {
                    info.pure_phone_number
                } else {
                    format!("+{}{}", info.country_code, info.pure_phone_number)
                };
                Ok(Some(number))
            }
            Err(IdentityError::WechatUnavailable(m))
                if m.starts_with("errcode 40001") || m.starts_with("errcode 42001") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

impl WechatClient {
    /// Sends a subscribe message; `Ok(false)` means the access token was refused (expired or
    /// replaced) and the caller should fetch a new one and try again.
    pub async fn send_subscribe_message(
        &self,
        access_token: &str,
        touser: &str,
        template_id: &str,
        page: &str,
        data: &std::collections::HashMap<String, String>,
    ) -> Result<bool, IdentityError> {
        let data: serde_json::Map<String, serde_json::Value> = data
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::json!({ "value": v })))
            .collect();
        let req = self
            .http
            .post(format!("{}/cgi-bin/message/subscribe/send", self.base))
            .query(&[("access_token", access_token)])
            .json(&serde_json::json!({
                "touser": touser,
                "template_id": template_id,
                "page": page,
                "data": data,
                "lang": "zh_CN",
            }));
        match self.call(req).await {
            Ok(_) => Ok(true),
            Err(IdentityError::WechatUnavailable(m))
                if m.starts_with("errcode 40001") || m.starts_with("errcode 42001") =>
            {
                Ok(false)
            }
            // 43101: not subscribed (or the one-time acceptance is used up).
            Err(IdentityError::WechatUnavailable(m)) if m.starts_with("errcode 43101") => {
                Err(IdentityError::SubscriptionRefused)
            }
            // Bad openid, template, data or page: sending again would not help.
            Err(IdentityError::WechatUnavailable(m))
                if [
                    "errcode 40003",
                    "errcode 40037",
                    "errcode 47003",
                    "errcode 41030",
                    "errcode 47001",
                ]
                .iter()
                .any(|c| m.starts_with(c)) =>
            {
                Err(IdentityError::WechatRejected(m))
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wechat_error_codes_map_to_clear_errors() {
        assert!(matches!(
            map_errcode(40029, ""),
            IdentityError::InvalidWechatCode
        ));
        assert!(matches!(
            map_errcode(40163, ""),
            IdentityError::InvalidWechatCode
        ));
        assert!(matches!(map_errcode(45011, ""), IdentityError::WechatBusy));
        assert!(matches!(
            map_errcode(40125, ""),
            IdentityError::WechatCredentials
        ));
        assert!(matches!(
            map_errcode(99999, "x"),
            IdentityError::WechatUnavailable(_)
        ));
    }
}
