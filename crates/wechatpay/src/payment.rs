//! The parameters a mini-program passes to `wx.requestPayment` to open WeChat's pay sheet.

use serde::{Deserialize, Serialize};

use crate::sign::{nonce_str, sign_message};
use crate::{Error, MerchantKeys};

/// Exactly the object `wx.requestPayment` takes (plus `appId`, which the mini-program ignores
/// but the signature covers, so clients can show what was signed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestPaymentParams {
    pub app_id: String,
    /// Seconds since the epoch, as a string (WeChat insists).
    pub time_stamp: String,
    pub nonce_str: String,
    /// `prepay_id=<prepay_id>`.
    pub package: String,
    /// Always `RSA` in API v3.
    pub sign_type: String,
    pub pay_sign: String,
}

impl RequestPaymentParams {
    /// Signs `appId\ntimeStamp\nnonceStr\npackage\n` with the merchant key.
    pub fn new(
        keys: &MerchantKeys,
        app_id: &str,
        prepay_id: &str,
        now_unix: i64,
    ) -> Result<Self, Error> {
        Self::with_nonce(keys, app_id, prepay_id, now_unix, &nonce_str())
    }

    pub(crate) fn with_nonce(
        keys: &MerchantKeys,
        app_id: &str,
        prepay_id: &str,
        now_unix: i64,
        nonce: &str,
    ) -> Result<Self, Error> {
        let time_stamp = now_unix.to_string();
        let package = format!("prepay_id={prepay_id}");
        let pay_sign = sign_message(
            keys,
            &format!("{app_id}\n{time_stamp}\n{nonce}\n{package}\n"),
        )?;
        Ok(Self {
            app_id: app_id.to_owned(),
            time_stamp,
            nonce_str: nonce.to_owned(),
            package,
            sign_type: "RSA".into(),
            pay_sign,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::tests::{PUBLIC, keys};
    use base64::Engine;
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;

    #[test]
    fn serialises_with_the_names_wx_request_payment_expects() {
        let p =
            RequestPaymentParams::with_nonce(&keys(), "wx1", "wx2017", 1_700_000_000, "N").unwrap();
        let v = serde_json::to_value(&p).unwrap();
        let mut names: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "appId",
                "nonceStr",
                "package",
                "paySign",
                "signType",
                "timeStamp"
            ]
        );
        assert_eq!(v["package"], "prepay_id=wx2017");
        assert_eq!(v["signType"], "RSA");
        assert_eq!(v["timeStamp"], "1700000000");
    }

    #[test]
    fn pay_sign_covers_app_id_time_nonce_and_package() {
        let p =
            RequestPaymentParams::with_nonce(&keys(), "wx1", "wx2017", 1_700_000_000, "N").unwrap();
        let sig = base64::engine::general_purpose::STANDARD
            .decode(&p.pay_sign)
            .unwrap();
        let sig = rsa::pkcs1v15::Signature::try_from(sig.as_slice()).unwrap();
        let key = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(
            rsa::RsaPublicKey::from_public_key_pem(PUBLIC).unwrap(),
        );
        assert!(
            key.verify(b"wx1\n1700000000\nN\nprepay_id=wx2017\n", &sig)
                .is_ok()
        );
        assert!(
            key.verify(b"wx2\n1700000000\nN\nprepay_id=wx2017\n", &sig)
                .is_err()
        );
    }
}
