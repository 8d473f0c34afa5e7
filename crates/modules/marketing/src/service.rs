//! Use cases of the marketing module: templates, handing coupons out (claims, staff issues, the
//! welcome coupon), and coupons at checkout through ordering's discount contract (quote, lock to
//! an order, then used, released or given back as the order goes).
//!
//! Every use case starts from the caller's [`TenantScope`] and touches the tenant's rows only in
//! its transactions. Handing out is one write transaction: take one from the template's total
//! (a conditional update), check the customer's limit, insert the coupon under the request's
//! idempotency key. Locking is one conditional update of the coupon.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use mm_kernel::audit::{self, AuditRecord};
use mm_kernel::cache::Cache;
use mm_kernel::error::{FieldViolation, RequestError, check_request_id};
use mm_kernel::module_config::{ConfigError, ModuleConfigs};
use mm_kernel::names::{Child, name_of};
use mm_kernel::{RequestContext, Role, TenantId, TenantScope};
use mm_proto::minimodules::ordering::v1 as opb;
use sea_orm::DatabaseConnection;

use crate::domain::{self, BasketLine, Kind, Terms};
use crate::entity::{coupons, templates};
use crate::error::{MarketingError, Result};
use crate::names::{Categories, Coupons, Members, Orders, Products, Users};
use crate::repo::{self, TemplateChanges};

/// The module id, as ordering's discount contract and the templates' scopes name it.
pub const MODULE: &str = "marketing";
/// The checkout this module discounts through ordering's contract.
const ORDERING: &str = "ordering";

/// The marketing config (defaults filled in by the tenant module).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Config {
    /// The template a new member's welcome coupon comes from; empty for none.
    #[serde(default)]
    pub welcome_coupon_template: String,
    /// Points earned per yuan paid.
    #[serde(default)]
    pub points_per_yuan: i64,
    /// "spend" or "points": what member levels are reached by.
    #[serde(default)]
    pub levels_by: String,
    /// Member levels, lowest first.
    #[serde(default)]
    pub levels: Vec<domain::Level>,
}

/// How a coupon was had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Claimed in the coupon centre.
    Claimed,
    /// Issued by staff.
    Issued,
    /// The welcome coupon.
    Welcome,
}

impl Source {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Claimed => "claimed",
            Self::Issued => "issued",
            Self::Welcome => "welcome",
        }
    }
}

/// The request id a customer's welcome coupon is handed out under: one per customer, ever.
const WELCOME_REQUEST: &str = "welcome";

/// A coupon with its template.
#[derive(Debug, Clone)]
pub struct Held {
    /// The coupon.
    pub coupon: coupons::Model,
    /// Its template.
    pub template: templates::Model,
}

/// The marketing module's application service.
#[derive(Clone, Debug)]
pub struct MarketingApp {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: mm_kernel::clock::Clock,
    configs: ModuleConfigs<Config>,
    /// Customers whose welcome coupon was seen to, so the check costs a query once per process.
    welcomed: Arc<std::sync::Mutex<std::collections::HashSet<(TenantId, String)>>>,
}

/// The terms stored in a template row.
pub fn terms_of(t: &templates::Model) -> Terms {
    let list = |s: &str| serde_json::from_str::<Vec<String>>(s).unwrap_or_default();
    Terms {
        title_zh: t.title_zh.clone(),
        title_en: t.title_en.clone(),
        description: t.description.clone(),
        kind: Kind::parse(&t.kind).unwrap_or(Kind::AmountOff),
        amount_off_fen: t.amount_off_fen,
        percent_off: t.percent_off,
        cap_fen: t.cap_fen,
        threshold_fen: t.threshold_fen,
        free_product_id: t.free_product_id.clone(),
        free_sku_id: t.free_sku_id.clone(),
        valid_from: t.valid_from,
        valid_until: t.valid_until,
        valid_days: t.valid_days,
        total_quantity: t.total_quantity,
        per_customer_limit: t.per_customer_limit,
        modules: list(&t.modules),
        product_ids: list(&t.product_ids),
        category_ids: list(&t.category_ids),
        stackable: t.stackable,
        claimable: t.claimable,
    }
}

pub(crate) fn customer_of(ctx: &RequestContext) -> Result<Option<String>> {
    let p = ctx.principal()?;
    Ok((p.role == Role::Customer).then(|| p.subject.clone()))
}

fn json_list(v: &[String]) -> Result<String> {
    Ok(serde_json::to_string(v).map_err(anyhow::Error::from)?)
}

impl MarketingApp {
    /// The service over a module context.
    pub fn from_context(ctx: &mm_kernel::module::ModuleContext) -> Self {
        Self::new(
            ctx.db.clone(),
            ctx.clock.clone(),
            ModuleConfigs::new(MODULE, ctx.platform.clone(), ctx.keys.clone(), &ctx.cache),
            &ctx.cache,
        )
    }

    fn new(
        db: DatabaseConnection,
        clock: mm_kernel::clock::Clock,
        configs: ModuleConfigs<Config>,
        cache: &Cache,
    ) -> Self {
        let welcomed: Arc<std::sync::Mutex<std::collections::HashSet<(TenantId, String)>>> =
            Arc::default();
        // A changed config may name another welcome template: check everyone again.
        let dropped = welcomed.clone();
        cache.on_invalidate(Arc::new(move |_| {
            if let Ok(mut w) = dropped.lock() {
                w.clear();
            }
        }));
        Self {
            db,
            clock,
            configs,
            welcomed,
        }
    }

    /// The tenant's config; MODULE_DISABLED when marketing is off for it.
    pub(crate) async fn config(&self, t: TenantId) -> Result<Config> {
        self.configs.get(t).await.map_err(|e| match e {
            ConfigError::Disabled => MarketingError::ModuleDisabled,
            ConfigError::Unavailable => MarketingError::Unavailable("the tenant service".into()),
            ConfigError::Internal(e) => MarketingError::Internal(e),
        })
    }

    /// Creates a template.
    pub async fn create_template(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        p: &mm_proto::minimodules::marketing::v1::CouponTemplate,
    ) -> Result<templates::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        self.config(tenant).await?;
        let now = self.clock.now();
        let t = domain::terms(tenant, p, now)?;
        let row = self.template_row(tenant, &t, now)?;
        let txn = scope.begin(&self.db).await?;
        repo::insert_template(&txn, &scope, row.clone()).await?;
        audit::record(
            &txn,
            AuditRecord::by(
                ctx,
                Some(tenant),
                "marketing.coupon_template.create",
                row.template_id.clone(),
            )
            .with(serde_json::json!({"title": row.title_zh, "kind": row.kind, "total": row.total_quantity})),
        )
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    async fn load_template(&self, scope: &TenantScope, id: &str) -> Result<templates::Model> {
        let txn = scope.one(&self.db).await?;
        let row = repo::find_template(&txn, scope, id).await?;
        txn.commit().await?;
        row.ok_or_else(|| MarketingError::TemplateNotFound {
            template: name_of::<crate::names::CouponTemplates>(scope.tenant(), id),
        })
    }

    /// The demo shop's coupon centre: one claimable "满30减5" unless the shop has templates.
    pub async fn seed_demo(&self, tenant: TenantId) -> Result<()> {
        let scope = RequestContext::system("demo-seed").authorize_tenant(&tenant)?;
        let txn = scope.one(&self.db).await?;
        let any = repo::list_templates(&txn, &scope, None, None, 1).await?;
        txn.commit().await?;
        if !any.is_empty() {
            return Ok(());
        }
        let p = mm_proto::minimodules::marketing::v1::CouponTemplate {
            title_zh: "新客满30减5".into(),
            title_en: "¥5 off ¥30".into(),
            description: "全场通用，每人限领一张".into(),
            kind: mm_proto::minimodules::marketing::v1::CouponKind::Threshold as i32,
            amount_off_fen: 500,
            threshold_fen: 3_000,
            valid_days: 30,
            total_quantity: 1_000,
            per_customer_limit: 1,
            claimable: true,
            ..Default::default()
        };
        let now = self.clock.now();
        let row = self.template_row(tenant, &domain::terms(tenant, &p, now)?, now)?;
        let txn = scope.one(&self.db).await?;
        repo::insert_template(&txn, &scope, row).await?;
        txn.commit().await?;
        Ok(())
    }

    fn template_row(
        &self,
        tenant: TenantId,
        t: &Terms,
        now: DateTime<Utc>,
    ) -> Result<templates::Model> {
        Ok(templates::Model {
            tenant_id: tenant,
            template_id: uuid::Uuid::now_v7().to_string(),
            title_zh: t.title_zh.clone(),
            title_en: t.title_en.clone(),
            description: t.description.clone(),
            kind: t.kind.as_str().into(),
            amount_off_fen: t.amount_off_fen,
            percent_off: t.percent_off,
            cap_fen: t.cap_fen,
            threshold_fen: t.threshold_fen,
            free_product_id: t.free_product_id.clone(),
            free_sku_id: t.free_sku_id.clone(),
            valid_from: t.valid_from,
            valid_until: t.valid_until,
            valid_days: t.valid_days,
            total_quantity: t.total_quantity,
            per_customer_limit: t.per_customer_limit,
            modules: json_list(&t.modules)?,
            product_ids: json_list(&t.product_ids)?,
            category_ids: json_list(&t.category_ids)?,
            stackable: t.stackable,
            claimable: t.claimable,
            state: repo::ACTIVE.into(),
            claimed_count: 0,
            used_count: 0,
            used_order_total_fen: 0,
            created_at: now,
            updated_at: now,
        })
    }

    /// One template.
    pub async fn get_template(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
    ) -> Result<templates::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        self.config(tenant).await?;
        self.load_template(&scope, id).await
    }

    /// A page of templates: all for staff, the coupon centre for customers.
    pub async fn list_templates(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<templates::Model>, Option<String>)> {
        let scope = ctx.authorize_tenant(&tenant)?;
        self.config(tenant).await?;
        let centre = customer_of(ctx)?.is_some();
        let size = mm_kernel::paging::page_size(page_size)?;
        let purpose = format!("coupon-templates:{tenant}:{centre}");
        let before = mm_kernel::paging::decode_token(&purpose, page_token)?;
        let txn = scope.one(&self.db).await?;
        let rows = repo::list_templates(
            &txn,
            &scope,
            centre.then(|| self.clock.now()),
            before.as_deref(),
            size + 1,
        )
        .await?;
        txn.commit().await?;
        Ok(mm_kernel::paging::finish_page(rows, size, &purpose, |r| {
            &r.template_id
        }))
    }

    /// Changes what may change of a template.
    pub async fn update_template(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
        changes: TemplateChanges,
    ) -> Result<templates::Model> {
        let scope = ctx.authorize_tenant(&tenant)?;
        self.config(tenant).await?;
        let mut v = Vec::new();
        if let Some(t) = &changes.title_zh {
            let n = t.chars().count();
            if n == 0 {
                v.push(FieldViolation::required("template.title_zh"));
            } else if n > 40 {
                v.push(FieldViolation::too_long("template.title_zh", 40));
            }
        }
        if changes
            .title_en
            .as_ref()
            .is_some_and(|t| t.chars().count() > 80)
        {
            v.push(FieldViolation::too_long("template.title_en", 80));
        }
        if changes
            .description
            .as_ref()
            .is_some_and(|t| t.chars().count() > 200)
        {
            v.push(FieldViolation::too_long("template.description", 200));
        }
        if changes
            .total_quantity
            .is_some_and(|q| !(1..=1_000_000).contains(&q))
        {
            v.push(FieldViolation::new(
                "template.total_quantity",
                "must be 1 to 1,000,000",
            ));
        }
        if !v.is_empty() {
            return Err(RequestError::Invalid(v).into());
        }
        let txn = scope.begin_write(&self.db).await?;
        let Some(before) = repo::find_template(&txn, &scope, id).await? else {
            return Err(MarketingError::TemplateNotFound {
                template: name_of::<crate::names::CouponTemplates>(tenant, id),
            });
        };
        if !repo::update_template(&txn, &scope, id, &changes).await? {
            return Err(RequestError::Invalid(vec![
                FieldViolation::new(
                    "template.total_quantity",
                    format!(
                        "must not be below the {} coupons already handed out",
                        before.claimed_count
                    ),
                )
                .reason("BELOW_MINIMUM")
                .param("min", before.claimed_count),
            ])
            .into());
        }
        let after = repo::find_template(&txn, &scope, id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("template {id} vanished in its own transaction"))?;
        audit::record(
            &txn,
            AuditRecord::by(
                ctx,
                Some(tenant),
                "marketing.coupon_template.update",
                id.to_string(),
            )
            .with(serde_json::json!({
                "state": [before.state, after.state],
                "total_quantity": [before.total_quantity, after.total_quantity],
                "claimable": [before.claimable, after.claimable],
            })),
        )
        .await?;
        txn.commit().await?;
        Ok(after)
    }

    /// The calling customer claims a coupon of a claimable template.
    pub async fn claim(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        template: &str,
        request_id: &str,
    ) -> Result<Held> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let Some(customer) = customer_of(ctx)? else {
            return Err(
                RequestError::PermissionDenied("only customers claim coupons".into()).into(),
            );
        };
        let mut v = Vec::new();
        check_request_id(request_id, &mut v);
        if !v.is_empty() {
            return Err(RequestError::Invalid(v).into());
        }
        self.config(tenant).await?;
        self.hand_out(&scope, template, &customer, request_id, Source::Claimed)
            .await
    }

    /// Staff give a coupon to a customer.
    pub async fn issue(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        template: &str,
        customer: &str,
        request_id: &str,
    ) -> Result<Held> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let mut v = Vec::new();
        check_request_id(request_id, &mut v);
        if !v.is_empty() {
            return Err(RequestError::Invalid(v).into());
        }
        self.config(tenant).await?;
        let held = self
            .hand_out(&scope, template, customer, request_id, Source::Issued)
            .await?;
        let txn = scope.one(&self.db).await?;
        audit::record(
            &txn,
            AuditRecord::by(
                ctx,
                Some(tenant),
                "marketing.coupon.issue",
                held.coupon.coupon_id.clone(),
            )
            .with(serde_json::json!({"template": template, "customer": customer})),
        )
        .await?;
        txn.commit().await?;
        Ok(held)
    }

    /// Hands one coupon of `template` to `customer` under `request_id`: the same request again
    /// answers the coupon it handed out.
    async fn hand_out(
        &self,
        scope: &TenantScope,
        template: &str,
        customer: &str,
        request_id: &str,
        source: Source,
    ) -> Result<Held> {
        let now = self.clock.now();
        let txn = scope.begin_write(&self.db).await?;
        if let Some(c) = repo::find_by_request(&txn, scope, customer, request_id).await? {
            let t = repo::find_template(&txn, scope, &c.template_id).await?;
            txn.commit().await?;
            if c.template_id != template {
                return Err(
                    RequestError::invalid("request_id", "was used for another coupon").into(),
                );
            }
            let template = t.ok_or_else(|| anyhow::anyhow!("coupon of a missing template"))?;
            return Ok(Held {
                coupon: c,
                template,
            });
        }
        let Some(t) = repo::find_template(&txn, scope, template).await? else {
            return Err(MarketingError::TemplateNotFound {
                template: name_of::<crate::names::CouponTemplates>(scope.tenant(), template),
            });
        };
        let claim = source == Source::Claimed;
        if !repo::take_one(&txn, scope, template, claim, now).await? {
            return Err(if t.state != repo::ACTIVE {
                MarketingError::TemplateStopped
            } else if claim && !t.claimable {
                MarketingError::NotClaimable
            } else if t.valid_until.is_some_and(|u| u <= now) {
                MarketingError::TemplateExpired
            } else {
                MarketingError::SoldOut
            });
        }
        // After the template's row is updated: on PostgreSQL its lock orders concurrent claims
        // of the template, so this count sees every coupon committed before.
        if claim
            && repo::count_held(&txn, scope, template, customer).await?
                >= u64::try_from(t.per_customer_limit).unwrap_or(0)
        {
            return Err(MarketingError::LimitReached {
                limit: t.per_customer_limit,
            });
        }
        let (valid_from, valid_until) = domain::validity(&terms_of(&t), now);
        let coupon = coupons::Model {
            tenant_id: scope.tenant(),
            coupon_id: uuid::Uuid::now_v7().to_string(),
            template_id: template.to_string(),
            customer_id: customer.to_string(),
            state: repo::AVAILABLE.into(),
            valid_from,
            valid_until,
            order_id: String::new(),
            discount_fen: 0,
            order_total_fen: 0,
            source: source.as_str().into(),
            request_id: request_id.to_string(),
            created_at: now,
            used_at: None,
            updated_at: now,
        };
        if !repo::insert_coupon(&txn, scope, coupon.clone()).await? {
            // A twin with the same key won meanwhile: its coupon is the answer, and this
            // transaction's take from the total is undone.
            txn.rollback().await?;
            let txn = scope.one(&self.db).await?;
            let c = repo::find_by_request(&txn, scope, customer, request_id).await?;
            txn.commit().await?;
            return c
                .map(|coupon| Held {
                    coupon,
                    template: t,
                })
                .ok_or_else(|| anyhow::anyhow!("a claim's twin vanished").into());
        }
        let template = repo::find_template(&txn, scope, template)
            .await?
            .unwrap_or(t);
        txn.commit().await?;
        Ok(Held { coupon, template })
    }

    /// Hands the customer the welcome coupon once, if the shop set one; failures (none left, the
    /// template stopped) leave the customer without it, as a claim would.
    async fn welcome(&self, scope: &TenantScope, config: &Config, customer: &str) {
        let key = (scope.tenant(), customer.to_string());
        if config.welcome_coupon_template.is_empty()
            || self.welcomed.lock().is_ok_and(|w| w.contains(&key))
        {
            return;
        }
        match self
            .hand_out(
                scope,
                &config.welcome_coupon_template,
                customer,
                WELCOME_REQUEST,
                Source::Welcome,
            )
            .await
        {
            Ok(_)
            | Err(
                MarketingError::TemplateNotFound { .. }
                | MarketingError::TemplateStopped
                | MarketingError::TemplateExpired
                | MarketingError::SoldOut
                | MarketingError::Request(_),
            ) => {
                if let Ok(mut w) = self.welcomed.lock() {
                    w.insert(key);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "welcome coupon not handed out; tried again later")
            }
        }
    }

    /// A page of coupons: the caller's own for customers, a customer's or all for staff.
    pub async fn list_coupons(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        customer: Option<String>,
        states: &[repo::Seen],
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<Held>, Option<String>)> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let config = self.config(tenant).await?;
        let own = customer_of(ctx)?;
        if let Some(c) = &own {
            self.welcome(&scope, &config, c).await;
        }
        let customer = own.or(customer);
        let size = mm_kernel::paging::page_size(page_size)?;
        let purpose = format!(
            "coupons:{tenant}:{}:{states:?}",
            customer.as_deref().unwrap_or("*")
        );
        let before = mm_kernel::paging::decode_token(&purpose, page_token)?;
        let txn = scope.one(&self.db).await?;
        let rows = repo::list_coupons(
            &txn,
            &scope,
            customer.as_deref(),
            states,
            self.clock.now(),
            before.as_deref(),
            size + 1,
        )
        .await?;
        let (rows, next) = mm_kernel::paging::finish_page(rows, size, &purpose, |r| &r.coupon_id);
        let held = self.with_templates(&txn, &scope, rows).await?;
        txn.commit().await?;
        Ok((held, next))
    }

    async fn with_templates(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        scope: &TenantScope,
        rows: Vec<coupons::Model>,
    ) -> Result<Vec<Held>> {
        let mut ids: Vec<String> = rows.iter().map(|c| c.template_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let templates = repo::templates_by_id(db, scope, ids).await?;
        Ok(rows
            .into_iter()
            .filter_map(|coupon| {
                let template = templates
                    .iter()
                    .find(|t| t.template_id == coupon.template_id)?
                    .clone();
                Some(Held { coupon, template })
            })
            .collect())
    }

    // ---- ordering's discount contract ----

    /// The basket's lines and customer, checked as ordering's contract sends them.
    fn basket(
        tenant: TenantId,
        b: Option<&opb::DiscountBasket>,
    ) -> Result<(String, Vec<BasketLine>, Choice)> {
        let b = b.ok_or_else(|| RequestError::invalid("basket", "is required"))?;
        let customer = Child::<Users>::id_in(tenant, &b.customer, "basket.customer")?;
        let mut lines = Vec::new();
        for l in &b.lines {
            lines.push(BasketLine {
                product_id: Child::<Products>::id_in(tenant, &l.product, "basket.lines.product")?,
                sku_id: l.sku_id.clone(),
                category_id: if l.category.is_empty() {
                    String::new()
                } else {
                    Child::<Categories>::id_in(tenant, &l.category, "basket.lines.category")?
                },
                unit_price_fen: l.unit_price_fen,
                quantity: i64::from(l.quantity),
            });
        }
        let choice = if b.no_coupon {
            Choice::None
        } else if b.coupon.is_empty() {
            Choice::Best
        } else {
            Choice::Picked(Child::<Coupons>::id_in(tenant, &b.coupon, "basket.coupon")?)
        };
        Ok((customer, lines, choice))
    }

    /// The customer's usable coupons against the basket, best first.
    async fn options(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        scope: &TenantScope,
        customer: &str,
        lines: &[BasketLine],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option_>> {
        let usable = repo::usable(db, scope, customer, now).await?;
        self.rank(db, scope, usable, lines).await
    }

    /// Coupons against the basket, best first.
    async fn rank(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        scope: &TenantScope,
        usable: Vec<coupons::Model>,
        lines: &[BasketLine],
    ) -> Result<Vec<Option_>> {
        if usable.is_empty() {
            return Ok(Vec::new());
        }
        let held = self.with_templates(db, scope, usable).await?;
        let mut options: Vec<Option_> = held
            .into_iter()
            .map(|h| {
                let terms = terms_of(&h.template);
                let off = domain::discount(&terms, ORDERING, lines);
                Option_ {
                    held: h,
                    terms,
                    off,
                }
            })
            .collect();
        // Most off first; of equals, the one expiring first.
        options.sort_by(|a, b| {
            b.off
                .unwrap_or(0)
                .cmp(&a.off.unwrap_or(0))
                .then(a.held.coupon.valid_until.cmp(&b.held.coupon.valid_until))
        });
        Ok(options)
    }

    /// The member level's discount off the basket's lines, when the customer's level has one.
    async fn level_discount(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        scope: &TenantScope,
        config: &Config,
        customer: &str,
        lines: &[BasketLine],
    ) -> Result<Option<opb::Discount>> {
        if config.levels.iter().all(|l| l.discount_percent <= 0) {
            return Ok(None);
        }
        let Some(member) = repo::find_member(db, scope, customer).await? else {
            return Ok(None);
        };
        let (Some(level), _) = crate::points::level(config, &member) else {
            return Ok(None);
        };
        let items: i64 = lines
            .iter()
            .map(|l| l.unit_price_fen.saturating_mul(l.quantity.max(0)))
            .fold(0, i64::saturating_add);
        let off = domain::level_discount(&level, items);
        if off <= 0 {
            return Ok(None);
        }
        let en = if level.name_en.is_empty() {
            level.name_zh.clone()
        } else {
            level.name_en.clone()
        };
        Ok(Some(opb::Discount {
            source: name_of::<Members>(scope.tenant(), customer),
            kind: "MEMBER_LEVEL".into(),
            label_zh: format!("{}优惠 {}% ", level.name_zh, level.discount_percent)
                .trim_end()
                .to_string(),
            label_en: format!("{en} {}% off", level.discount_percent),
            amount_fen: off,
        }))
    }

    /// What the basket would take off; changes nothing (but may hand out the welcome coupon).
    pub async fn quote(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        basket: Option<&opb::DiscountBasket>,
    ) -> Result<opb::QuoteDiscountsResponse> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let config = self.config(tenant).await?;
        let (customer, lines, choice) = Self::basket(tenant, basket)?;
        self.welcome(&scope, &config, &customer).await;
        let now = self.clock.now();
        let txn = scope.one(&self.db).await?;
        let options = self.options(&txn, &scope, &customer, &lines, now).await?;
        let level = self
            .level_discount(&txn, &scope, &config, &customer, &lines)
            .await?;
        txn.commit().await?;
        let mut out = opb::QuoteDiscountsResponse {
            coupons: options.iter().map(|o| o.to_pb(tenant)).collect(),
            discounts: level.into_iter().collect(),
            ..Default::default()
        };
        match choice {
            Choice::None => {}
            Choice::Best => {
                if let Some(best) = options.iter().find(|o| o.off.is_ok_and(|x| x > 0)) {
                    out.discounts.push(best.discount(tenant));
                }
            }
            Choice::Picked(id) => match options.iter().find(|o| o.held.coupon.coupon_id == id) {
                None => out.coupon_problem = "COUPON_UNAVAILABLE".into(),
                Some(o) => match o.off {
                    Ok(x) if x > 0 => out.discounts.push(o.discount(tenant)),
                    Ok(_) => out.coupon_problem = domain::Problem::NotInScope.as_str().into(),
                    Err(p) => out.coupon_problem = p.as_str().into(),
                },
            },
        }
        Ok(out)
    }

    /// Locks the chosen coupon to an order; the same order again answers what it locked.
    pub async fn lock(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        order: &str,
        basket: Option<&opb::DiscountBasket>,
    ) -> Result<Vec<opb::Discount>> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let config = self.config(tenant).await?;
        let order = Child::<Orders>::id_in(tenant, order, "order")?;
        let (customer, lines, choice) = Self::basket(tenant, basket)?;
        let now = self.clock.now();
        // Read first, write only what there is to lock: most orders carry no coupon, and they
        // must not queue for SQLite's one writer (or take a lock) for nothing.
        let txn = scope.one(&self.db).await?;
        let (locked, usable) = repo::for_checkout(&txn, &scope, &customer, &order, now).await?;
        let level: Vec<opb::Discount> = self
            .level_discount(&txn, &scope, &config, &customer, &lines)
            .await?
            .into_iter()
            .collect();
        if !locked.is_empty() {
            let held = self.with_templates(&txn, &scope, locked).await?;
            txn.commit().await?;
            return Ok(level
                .into_iter()
                .chain(
                    held.into_iter()
                        .map(|h| discount_of(tenant, &h.coupon, &terms_of(&h.template))),
                )
                .collect());
        }
        let options = self.rank(&txn, &scope, usable, &lines).await?;
        txn.commit().await?;
        let candidates: Vec<&Option_> = match &choice {
            Choice::None => Vec::new(),
            Choice::Best => options
                .iter()
                .filter(|o| o.off.is_ok_and(|x| x > 0))
                .collect(),
            Choice::Picked(id) => {
                let Some(o) = options.iter().find(|o| &o.held.coupon.coupon_id == id) else {
                    return Err(MarketingError::CouponUnavailable);
                };
                match o.off {
                    Ok(x) if x > 0 => vec![o],
                    Ok(_) => {
                        return Err(MarketingError::CouponNotApplicable {
                            problem: domain::Problem::NotInScope.as_str(),
                        });
                    }
                    Err(p) => {
                        return Err(MarketingError::CouponNotApplicable {
                            problem: p.as_str(),
                        });
                    }
                }
            }
        };
        for o in candidates {
            let off = o.off.unwrap_or(0);
            // One conditional update: of concurrent checkouts with this coupon, one wins; the
            // others take the next best (or, having picked it, are refused).
            let txn = scope.one(&self.db).await?;
            let won = repo::lock(
                &txn,
                &scope,
                &o.held.coupon.coupon_id,
                &customer,
                &order,
                off,
                now,
            )
            .await?;
            txn.commit().await?;
            if won {
                return Ok(level.into_iter().chain([o.discount(tenant)]).collect());
            }
            if matches!(choice, Choice::Picked(_)) {
                return Err(MarketingError::CouponUnavailable);
            }
        }
        Ok(level)
    }

    /// Applies what became of an order; false when nothing changed (a repeat, or no coupon).
    pub async fn on_order_event(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        order: &str,
        kind: opb::OrderDiscountEventKind,
        total_fen: i64,
        customer: &str,
    ) -> Result<bool> {
        let scope = ctx.authorize_tenant(&tenant)?;
        let order = Child::<Orders>::id_in(tenant, order, "order")?;
        let customer = Child::<Users>::opt_id_in(tenant, customer, "customer")?;
        // Points first: each step is idempotent on its own, so a failure half-way is finished
        // by the repeat the caller owes.
        let mut points = false;
        match (kind, &customer) {
            (opb::OrderDiscountEventKind::Paid, Some(c)) => match self.config(tenant).await {
                Ok(config) => points = self.earn(&scope, &config, c, &order, total_fen).await?,
                // Switched off since: no points, but its coupons are still settled below.
                Err(MarketingError::ModuleDisabled) => {}
                Err(e) => return Err(e),
            },
            (opb::OrderDiscountEventKind::Refunded, _) => {
                points = self.take_back(&scope, &order).await?;
            }
            _ => {}
        }
        let now = self.clock.now();
        let txn = scope.begin_write(&self.db).await?;
        let applied = match kind {
            opb::OrderDiscountEventKind::Paid => {
                let used = repo::move_order_coupons(
                    &txn,
                    &scope,
                    &order,
                    repo::LOCKED,
                    repo::USED,
                    total_fen,
                    now,
                )
                .await?;
                for c in &used {
                    repo::count_use(&txn, &scope, &c.template_id, 1, total_fen).await?;
                }
                !used.is_empty()
            }
            opb::OrderDiscountEventKind::Released => !repo::move_order_coupons(
                &txn,
                &scope,
                &order,
                repo::LOCKED,
                repo::AVAILABLE,
                0,
                now,
            )
            .await?
            .is_empty(),
            opb::OrderDiscountEventKind::Refunded => {
                let back = repo::move_order_coupons(
                    &txn,
                    &scope,
                    &order,
                    repo::USED,
                    repo::AVAILABLE,
                    0,
                    now,
                )
                .await?;
                for c in &back {
                    repo::count_use(&txn, &scope, &c.template_id, -1, c.order_total_fen).await?;
                }
                // Refunded before its payment was heard of here: the lock goes too.
                let unlocked = repo::move_order_coupons(
                    &txn,
                    &scope,
                    &order,
                    repo::LOCKED,
                    repo::AVAILABLE,
                    0,
                    now,
                )
                .await?;
                !back.is_empty() || !unlocked.is_empty()
            }
            opb::OrderDiscountEventKind::Unspecified => {
                return Err(RequestError::invalid("kind", "is required").into());
            }
        };
        txn.commit().await?;
        Ok(applied || points)
    }
}

/// Which coupon the customer wants.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Choice {
    /// None at all.
    None,
    /// The server's best.
    Best,
    /// This one (its id).
    Picked(String),
}

/// One usable coupon against a basket.
struct Option_ {
    held: Held,
    terms: Terms,
    off: std::result::Result<i64, domain::Problem>,
}

impl Option_ {
    fn to_pb(&self, tenant: TenantId) -> opb::CouponOption {
        let (zh, en) = domain::label(&self.terms);
        opb::CouponOption {
            coupon: name_of::<Coupons>(tenant, &self.held.coupon.coupon_id),
            title_zh: zh,
            title_en: en,
            amount_fen: self.off.unwrap_or(0),
            problem: match self.off {
                Ok(x) if x > 0 => String::new(),
                Ok(_) => domain::Problem::NotInScope.as_str().into(),
                Err(p) => p.as_str().into(),
            },
        }
    }

    fn discount(&self, tenant: TenantId) -> opb::Discount {
        let c = coupons::Model {
            discount_fen: self.off.unwrap_or(0),
            ..self.held.coupon.clone()
        };
        discount_of(tenant, &c, &self.terms)
    }
}

/// A coupon's discount as ordering's contract has it.
fn discount_of(tenant: TenantId, c: &coupons::Model, terms: &Terms) -> opb::Discount {
    let (label_zh, label_en) = domain::label(terms);
    opb::Discount {
        source: name_of::<Coupons>(tenant, &c.coupon_id),
        kind: "COUPON".into(),
        label_zh,
        label_en,
        amount_fen: c.discount_fen,
    }
}
