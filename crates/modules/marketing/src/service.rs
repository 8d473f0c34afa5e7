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

use crate::domain::{self, Kind, Terms};
use crate::entity::{coupons, templates};
use crate::error::{MarketingError, Result};
use crate::names::{Orders, Users};
use crate::repo::{self, TemplateChanges};

/// The module id, as ordering's discount contract and the templates' scopes name it.
pub const MODULE: &str = "marketing";

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
    /// Points that pay one yuan at checkout; 0: points do not pay.
    #[serde(default)]
    pub points_per_yuan_off: i64,
    /// The most of an order (after other discounts) points may pay, in percent.
    #[serde(default)]
    pub points_cap_percent: i64,
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
    /// What checkout reads that rarely changes.
    pub(crate) memo: crate::memo::Memo,
    /// Coupons locked to orders, grouped with the locks of the shop arriving at the same moment
    /// (`mm_kernel::group`).
    pub(crate) locks: Arc<mm_kernel::group::Group>,
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
        cache: &Arc<Cache>,
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
            memo: crate::memo::Memo::new(cache.clone()),
            locks: Arc::new(mm_kernel::group::Group::new("marketing.lock")),
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
        self.memo.changed(scope.tenant(), customer).await;
        Ok(Held { coupon, template })
    }

    /// Hands the customer the welcome coupon once, if the shop set one; failures (none left, the
    /// template stopped) leave the customer without it, as a claim would.
    pub(crate) async fn welcome(&self, scope: &TenantScope, config: &Config, customer: &str) {
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

    pub(crate) async fn with_templates(
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
                points |= self.give_back_spent(&scope, &order).await?;
            }
            (opb::OrderDiscountEventKind::Released, _) => {
                points = self.give_back_spent(&scope, &order).await?;
            }
            _ => {}
        }
        let now = self.clock.now();
        let mut given_back: Vec<String> = Vec::new();
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
            opb::OrderDiscountEventKind::Released => {
                given_back = repo::move_order_coupons(
                    &txn,
                    &scope,
                    &order,
                    repo::LOCKED,
                    repo::AVAILABLE,
                    0,
                    now,
                )
                .await?
                .into_iter()
                .map(|c| c.customer_id)
                .collect();
                !given_back.is_empty()
            }
            opb::OrderDiscountEventKind::Refunded => {
                let back: Vec<coupons::Model> = repo::move_order_coupons(
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
                // A coupon back in hand: a checkout must see it again.
                given_back = back.into_iter().map(|c| c.customer_id).collect();
                given_back.extend(unlocked.iter().map(|c| c.customer_id.clone()));
                !given_back.is_empty()
            }
            opb::OrderDiscountEventKind::Unspecified => {
                return Err(RequestError::invalid("kind", "is required").into());
            }
        };
        txn.commit().await?;
        given_back.dedup();
        for c in &given_back {
            self.memo.changed(tenant, c).await;
        }
        Ok(applied || points)
    }
}
