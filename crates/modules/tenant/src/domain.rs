//! Tenant domain types and rules, free of I/O: what a valid slug, appid, colour, name and branding
//! are. Parsing happens here so the rest of the module only ever holds valid values.

use std::sync::LazyLock;

use mm_kernel::error::{FieldViolation, RequestError};
use regex::Regex;
use serde::{Deserialize, Serialize};

static SLUG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$").expect("static regex"));
static APPID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^wx[0-9a-f]{16}$").expect("static regex"));
static COLOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^#[0-9A-Fa-f]{6}$").expect("static regex"));

/// Industries a tenant can belong to.
pub const INDUSTRIES: &[&str] = &["restaurant", "salon", "retail", "other"];

/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Tenant lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Serving.
    Active,
    /// Archived.
    Archived,
}

impl Status {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Archived => "archived",
        }
    }

    /// Parses the stored form; unknown values read as archived so they never serve customers.
    pub fn from_stored(s: &str) -> Self {
        if s == "active" {
            Self::Active
        } else {
            Self::Archived
        }
    }
}

/// Collects field violations so a request reports all its problems at once.
#[derive(Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// Records a violation when `ok` is false.
    pub fn check(&mut self, ok: bool, field: &str, description: &str) {
        if !ok {
            self.0.push(FieldViolation::new(field, description));
        }
    }

    /// Records `violation` when `ok` is false.
    pub fn require(&mut self, ok: bool, violation: impl FnOnce() -> FieldViolation) {
        if !ok {
            self.0.push(violation());
        }
    }

    /// Ok when nothing was recorded.
    pub fn finish(self) -> Result<(), RequestError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(RequestError::Invalid(self.0))
        }
    }
}

/// Checks a slug.
pub fn check_slug(v: &mut Violations, field: &str, slug: &str) {
    v.require(SLUG.is_match(slug), || {
        FieldViolation::invalid_format(field, "slug")
    });
}

/// Checks an appid; empty means none.
pub fn check_appid(v: &mut Violations, field: &str, appid: &str) {
    v.require(appid.is_empty() || APPID.is_match(appid), || {
        FieldViolation::invalid_format(field, "appid")
    });
}

/// Checks a display name.
pub fn check_name(v: &mut Violations, field: &str, name: &str, required: bool) {
    let n = name.chars().count();
    if required {
        v.require(!name.trim().is_empty(), || FieldViolation::required(field));
    }
    v.require(n <= MAX_NAME_CHARS, || {
        FieldViolation::too_long(field, MAX_NAME_CHARS)
    });
    v.require(!name.chars().any(char::is_control), || {
        FieldViolation::invalid_format(field, "text")
    });
}

/// Checks an industry.
pub fn check_industry(v: &mut Violations, field: &str, industry: &str) {
    v.check(
        INDUSTRIES.contains(&industry),
        field,
        "must be one of restaurant, salon, retail, other",
    );
}

/// The look of a tenant's mini-program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    /// Main colour.
    pub primary_color: String,
    /// Accent colour.
    pub secondary_color: String,
    /// Background colour.
    pub background_color: String,
    /// Text colour.
    pub text_color: String,
    /// Logo URL, https; empty for none.
    #[serde(default)]
    pub logo_url: String,
    /// Navigation bar title; empty means the tenant name.
    #[serde(default)]
    pub display_name: String,
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            primary_color: "#07C160".into(),
            secondary_color: "#FA9D3B".into(),
            background_color: "#F7F7F7".into(),
            text_color: "#191919".into(),
            logo_url: String::new(),
            display_name: String::new(),
        }
    }
}

impl Branding {
    /// Checks every field, reporting each problem under `prefix`.
    pub fn validate(&self, prefix: &str) -> Result<(), RequestError> {
        let mut v = Violations::default();
        for (name, value) in [
            ("primary_color", &self.primary_color),
            ("secondary_color", &self.secondary_color),
            ("background_color", &self.background_color),
            ("text_color", &self.text_color),
        ] {
            v.check(
                COLOR.is_match(value),
                &format!("{prefix}.{name}"),
                "must be a colour like #1A2B3C",
            );
        }
        let logo_ok = self.logo_url.is_empty()
            || (self.logo_url.starts_with("https://")
                && self.logo_url.len() <= 2048
                && !self
                    .logo_url
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control()));
        v.check(
            logo_ok,
            &format!("{prefix}.logo_url"),
            "must be an https:// URL of at most 2048 bytes",
        );
        check_name(
            &mut v,
            &format!("{prefix}.display_name"),
            &self.display_name,
            false,
        );
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects_slugs() {
        for (slug, ok) in [
            ("demo-restaurant", true),
            ("ab", false),
            ("-bad", false),
            ("Upper", false),
            ("a1b", true),
        ] {
            let mut v = Violations::default();
            check_slug(&mut v, "slug", slug);
            assert_eq!(v.finish().is_ok(), ok, "{slug}");
        }
    }

    #[test]
    fn rejects_bad_colours_and_logo_urls_together() {
        let b = Branding {
            primary_color: "red".into(),
            logo_url: "http://x".into(),
            ..Branding::default()
        };
        let Err(RequestError::Invalid(v)) = b.validate("branding") else {
            panic!("expected invalid")
        };
        let fields: Vec<_> = v.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, vec!["branding.primary_color", "branding.logo_url"]);
    }

    #[test]
    fn appids_must_look_like_wechat_ones() {
        let mut v = Violations::default();
        check_appid(&mut v, "a", "wx0123456789abcdef");
        check_appid(&mut v, "b", "");
        assert!(v.finish().is_ok());
        let mut v = Violations::default();
        check_appid(&mut v, "a", "wx123");
        assert!(v.finish().is_err());
    }
}
