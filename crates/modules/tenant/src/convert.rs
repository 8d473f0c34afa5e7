//! Conversions between stored rows, domain values and proto messages, kept in one place.

use mm_kernel::TenantId;
use mm_kernel::error::RequestError;
use mm_kernel::json::timestamp as ts;
use mm_kernel::names::{name_of, tenant_name};
use mm_proto::minimodules::tenant::v1 as pb;
use serde_json::{Map, Value};

use crate::domain::{Branding, Status};
use crate::entity::tenants;
use crate::names::{self, ModuleName, Modules};
use crate::registry::{ModuleSpec, TemplateSpec};
use crate::service::{ModuleState, NewTenant, StoredConfig, config_etag};

/// Stored tenant to proto.
pub fn tenant(row: &tenants::Model) -> pb::Tenant {
    pb::Tenant {
        name: tenant_name(row.tenant_id),
        slug: row.slug.clone(),
        display_name_zh: row.display_name_zh.clone(),
        display_name_en: row.display_name_en.clone(),
        industry: row.industry.clone(),
        wechat_appid: row.wechat_appid.clone().unwrap_or_default(),
        status: match Status::from_stored(&row.status) {
            Status::Active => pb::TenantStatus::Active,
            Status::Archived => pb::TenantStatus::Archived,
        } as i32,
        config_version: row.config_version,
        create_time: Some(ts(row.created_at)),
        update_time: Some(ts(row.updated_at)),
        etag: config_etag(row.config_version),
    }
}

/// Proto tenant to a creation request, destructured in full so a new field cannot be forgotten.
pub fn new_tenant(t: pb::Tenant) -> NewTenant {
    let pb::Tenant {
        name: _,
        slug,
        display_name_zh,
        display_name_en,
        industry,
        wechat_appid,
        status: _,
        config_version: _,
        create_time: _,
        update_time: _,
        etag: _,
    } = t;
    NewTenant {
        slug,
        display_name_zh,
        display_name_en,
        industry,
        wechat_appid,
    }
}

/// Branding to proto.
pub fn branding(tenant: TenantId, b: &Branding, version: i64) -> pb::Branding {
    pb::Branding {
        name: names::BrandingName::name(tenant),
        primary_color: b.primary_color.clone(),
        secondary_color: b.secondary_color.clone(),
        background_color: b.background_color.clone(),
        text_color: b.text_color.clone(),
        logo_url: b.logo_url.clone(),
        display_name: b.display_name.clone(),
        etag: config_etag(version),
    }
}

/// Applies the masked fields of a proto branding; an empty mask means every writable field.
pub fn apply_branding(
    target: &mut Branding,
    src: &pb::Branding,
    mask: &[String],
) -> Result<(), RequestError> {
    const FIELDS: &[&str] = &[
        "primary_color",
        "secondary_color",
        "background_color",
        "text_color",
        "logo_url",
        "display_name",
    ];
    let paths: Vec<&str> = if mask.is_empty() {
        FIELDS.to_vec()
    } else {
        mask.iter().map(String::as_str).collect()
    };
    for p in paths {
        match p {
            "primary_color" => target.primary_color.clone_from(&src.primary_color),
            "secondary_color" => target.secondary_color.clone_from(&src.secondary_color),
            "background_color" => target.background_color.clone_from(&src.background_color),
            "text_color" => target.text_color.clone_from(&src.text_color),
            "logo_url" => target.logo_url.clone_from(&src.logo_url),
            "display_name" => target.display_name.clone_from(&src.display_name),
            other => {
                return Err(RequestError::invalid(
                    "update_mask",
                    format!("unknown or read-only field {other:?}"),
                ));
            }
        }
    }
    Ok(())
}

fn i18n_page(p: &crate::registry::PageSpec) -> pb::Page {
    pb::Page {
        path: p.path.clone(),
        title_zh: p.title.zh.clone(),
        title_en: p.title.en.clone(),
    }
}

fn tab(t: &crate::registry::TabSpec) -> pb::TabEntry {
    pb::TabEntry {
        page_path: t.page.clone(),
        text_zh: t.text.zh.clone(),
        text_en: t.text.en.clone(),
        icon: t.icon.clone(),
        order: t.order,
    }
}

/// A module spec to proto.
pub fn module(spec: &ModuleSpec, defaults: &Map<String, Value>) -> pb::Module {
    pb::Module {
        name: format!("modules/{}", spec.id),
        id: spec.id.clone(),
        version: spec.version.clone(),
        display_name_zh: spec.name.zh.clone(),
        display_name_en: spec.name.en.clone(),
        description: spec.description.zh.clone(),
        dependencies: spec.dependencies.clone(),
        permissions: spec
            .permissions
            .iter()
            .map(|p| pb::Permission {
                name: p.name.clone(),
                description_zh: p.description.zh.clone(),
                description_en: p.description.en.clone(),
            })
            .collect(),
        config_schema: Some(mm_kernel::json::json_to_struct(&spec.config_schema)),
        config_defaults: Some(mm_kernel::json::object_to_struct(defaults)),
        pages: spec.pages.iter().map(i18n_page).collect(),
        tabs: spec.tabs.iter().map(tab).collect(),
        admin_menu: spec
            .admin_menu
            .iter()
            .map(|a| pb::AdminMenuEntry {
                path: a.path.clone(),
                title_zh: a.title.zh.clone(),
                title_en: a.title.en.clone(),
                permission: a.permission.clone(),
            })
            .collect(),
        core: spec.core,
        serves: spec
            .serves
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// An enabled module as the mini-program sees it.
pub fn app_module(spec: &ModuleSpec, public: &Map<String, Value>) -> pb::AppModule {
    pb::AppModule {
        id: spec.id.clone(),
        version: spec.version.clone(),
        display_name_zh: spec.name.zh.clone(),
        display_name_en: spec.name.en.clone(),
        pages: spec.pages.iter().map(i18n_page).collect(),
        tabs: spec.tabs.iter().map(tab).collect(),
        public_config: Some(mm_kernel::json::object_to_struct(public)),
    }
}

/// Module state to proto.
pub fn tenant_module(
    tenant: TenantId,
    s: &ModuleState,
    spec: Option<&ModuleSpec>,
) -> pb::TenantModule {
    pb::TenantModule {
        name: name_of::<Modules>(tenant, &s.module_id),
        module_id: s.module_id.clone(),
        enabled: s.enabled,
        config_version: s.config_version,
        update_time: s.update_time.map(ts),
        serves: spec
            .map(|m| {
                m.serves
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Stored config to proto.
pub fn module_config(module: &ModuleName, c: &StoredConfig) -> pb::ModuleConfig {
    pb::ModuleConfig {
        name: names::config_name(module),
        config: Some(mm_kernel::json::json_to_struct(&c.config)),
        version: c.version,
        etag: config_etag(c.version),
    }
}

/// A template to proto.
pub fn template(t: &TemplateSpec) -> pb::IndustryTemplate {
    pb::IndustryTemplate {
        name: format!("industryTemplates/{}", t.id),
        id: t.id.clone(),
        display_name_zh: t.name.zh.clone(),
        display_name_en: t.name.en.clone(),
        modules: t.modules.clone(),
        branding: Some(pb::TemplateBranding {
            primary_color: t.branding.primary_color.clone(),
            secondary_color: t.branding.secondary_color.clone(),
            background_color: t.branding.background_color.clone(),
            text_color: t.branding.text_color.clone(),
        }),
    }
}
