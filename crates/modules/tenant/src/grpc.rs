//! tonic handlers: read the context, parse names, call the use case, convert back. No rules here.

use mm_kernel::RequestContext;
use mm_kernel::error::RequestError;
use mm_kernel::ids::{parse_name, tenant_from_name};
use mm_proto::minimodules::tenant::v1 as pb;
use pb::module_service_server::ModuleService;
use pb::tenant_service_server::TenantService;
use tonic::{Request, Response, Status};

use crate::convert;
use crate::error::TenantError;
use crate::names::{self, ModuleName};
use crate::payments;
use crate::service::{TenantApp, TenantPatch};

type Reply<T> = Result<Response<T>, Status>;

fn ok<T>(v: T) -> Reply<T> {
    Ok(Response::new(v))
}

#[tonic::async_trait]
impl TenantService for TenantApp {
    async fn create_tenant(
        &self,
        req: Request<pb::CreateTenantRequest>,
    ) -> Reply<pb::CreateTenantResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let t = r
            .tenant
            .ok_or_else(|| RequestError::invalid("tenant", "is required"))?;
        let row = self
            .create_tenant(&ctx, convert::new_tenant(t), &r.template_id)
            .await?;
        ok(pb::CreateTenantResponse {
            tenant: Some(convert::tenant(&row)),
        })
    }

    async fn get_tenant(&self, req: Request<pb::GetTenantRequest>) -> Reply<pb::GetTenantResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let tenant = tenant_from_name(&req.get_ref().name, "name")?;
        let row = self.get_tenant(&ctx, tenant).await?;
        ok(pb::GetTenantResponse {
            tenant: Some(convert::tenant(&row)),
        })
    }

    async fn list_tenants(
        &self,
        req: Request<pb::ListTenantsRequest>,
    ) -> Reply<pb::ListTenantsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.get_ref();
        let (rows, next) = self
            .list_tenants(&ctx, r.page_size, &r.page_token, r.show_archived)
            .await?;
        ok(pb::ListTenantsResponse {
            tenants: rows.iter().map(convert::tenant).collect(),
            next_page_token: next.unwrap_or_default(),
        })
    }

    async fn update_tenant(
        &self,
        req: Request<pb::UpdateTenantRequest>,
    ) -> Reply<pb::UpdateTenantResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let t = r
            .tenant
            .ok_or_else(|| RequestError::invalid("tenant", "is required"))?;
        let tenant = tenant_from_name(&t.name, "tenant.name")?;
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        if paths.is_empty() {
            return Err(RequestError::invalid("update_mask", "name the fields to change").into());
        }
        let mut patch = TenantPatch::default();
        for p in paths {
            match p.as_str() {
                "display_name_zh" => patch.display_name_zh = Some(t.display_name_zh.clone()),
                "display_name_en" => patch.display_name_en = Some(t.display_name_en.clone()),
                "industry" => patch.industry = Some(t.industry.clone()),
                "slug" => patch.slug = Some(t.slug.clone()),
                "wechat_appid" => patch.wechat_appid = Some(t.wechat_appid.clone()),
                other => {
                    return Err(RequestError::invalid(
                        "update_mask",
                        format!("unknown or read-only field {other:?}"),
                    )
                    .into());
                }
            }
        }
        let row = self.update_tenant(&ctx, tenant, patch, &t.etag).await?;
        ok(pb::UpdateTenantResponse {
            tenant: Some(convert::tenant(&row)),
        })
    }

    async fn archive_tenant(
        &self,
        req: Request<pb::ArchiveTenantRequest>,
    ) -> Reply<pb::ArchiveTenantResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let tenant = tenant_from_name(&req.get_ref().name, "name")?;
        let row = self.archive_tenant(&ctx, tenant).await?;
        ok(pb::ArchiveTenantResponse {
            tenant: Some(convert::tenant(&row)),
        })
    }

    async fn get_branding(
        &self,
        req: Request<pb::GetBrandingRequest>,
    ) -> Reply<pb::GetBrandingResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let tenant = names::BrandingName::tenant_of(&req.get_ref().name, "name")?;
        let (b, version) = self.get_branding(&ctx, tenant).await?;
        ok(pb::GetBrandingResponse {
            branding: Some(convert::branding(tenant, &b, version)),
        })
    }

    async fn update_branding(
        &self,
        req: Request<pb::UpdateBrandingRequest>,
    ) -> Reply<pb::UpdateBrandingResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let r = req.into_inner();
        let src = r
            .branding
            .ok_or_else(|| RequestError::invalid("branding", "is required"))?;
        let tenant = names::BrandingName::tenant_of(&src.name, "branding.name")?;
        let mask = r.update_mask.map(|m| m.paths).unwrap_or_default();
        // Check the mask before touching storage, so a bad path writes nothing.
        convert::apply_branding(&mut Default::default(), &src, &mask)?;
        let (b, version) = self
            .update_branding(
                &ctx,
                tenant,
                |b| {
                    let _ = convert::apply_branding(b, &src, &mask);
                },
                &src.etag,
            )
            .await?;
        ok(pb::UpdateBrandingResponse {
            branding: Some(convert::branding(tenant, &b, version)),
        })
    }

    async fn list_tenant_modules(
        &self,
        req: Request<pb::ListTenantModulesRequest>,
    ) -> Reply<pb::ListTenantModulesResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let tenant = tenant_from_name(&req.get_ref().parent, "parent")?;
        let states = self.list_tenant_modules(&ctx, tenant).await?;
        ok(pb::ListTenantModulesResponse {
            modules: states
                .iter()
                .map(|s| convert::tenant_module(tenant, s, self.spec_of(&s.module_id)))
                .collect(),
        })
    }

    async fn enable_module(
        &self,
        req: Request<pb::EnableModuleRequest>,
    ) -> Reply<pb::EnableModuleResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, module) = ModuleName::parse(&req.get_ref().name, "name")?.into_parts();
        let s = self.set_module_enabled(&ctx, tenant, &module, true).await?;
        ok(pb::EnableModuleResponse {
            module: Some(convert::tenant_module(
                tenant,
                &s,
                self.spec_of(&s.module_id),
            )),
        })
    }

    async fn disable_module(
        &self,
        req: Request<pb::DisableModuleRequest>,
    ) -> Reply<pb::DisableModuleResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (tenant, module) = ModuleName::parse(&req.get_ref().name, "name")?.into_parts();
        let s = self
            .set_module_enabled(&ctx, tenant, &module, false)
            .await?;
        ok(pb::DisableModuleResponse {
            module: Some(convert::tenant_module(
                tenant,
                &s,
                self.spec_of(&s.module_id),
            )),
        })
    }

    async fn get_module_config(
        &self,
        req: Request<pb::GetModuleConfigRequest>,
    ) -> Reply<pb::GetModuleConfigResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let module = names::config_module(&req.get_ref().name, "name")?;
        let c = self
            .get_module_config(&ctx, module.tenant(), module.id())
            .await?;
        ok(pb::GetModuleConfigResponse {
            config: Some(convert::module_config(&module, &c)),
        })
    }

    async fn update_module_config(
        &self,
        req: Request<pb::UpdateModuleConfigRequest>,
    ) -> Reply<pb::UpdateModuleConfigResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let c = req
            .into_inner()
            .config
            .ok_or_else(|| RequestError::invalid("config", "is required"))?;
        let module = names::config_module(&c.name, "config.name")?;
        let json = c
            .config
            .as_ref()
            .map(mm_kernel::json::struct_to_json)
            .unwrap_or(serde_json::json!({}));
        let stored = self
            .update_module_config(&ctx, module.tenant(), module.id(), json, &c.etag)
            .await?;
        ok(pb::UpdateModuleConfigResponse {
            config: Some(convert::module_config(&module, &stored)),
        })
    }

    async fn get_app_config(
        &self,
        req: Request<pb::GetAppConfigRequest>,
    ) -> Reply<pb::GetAppConfigResponse> {
        let cfg = self.app_config(&req.get_ref().wechat_appid).await?;
        ok(pb::GetAppConfigResponse {
            app_config: Some(cfg),
        })
    }

    async fn lookup_tenant(
        &self,
        req: Request<pb::LookupTenantRequest>,
    ) -> Reply<pb::LookupTenantResponse> {
        let row = self.lookup(&req.get_ref().shop).await?;
        ok(pb::LookupTenantResponse {
            tenant: mm_kernel::names::tenant_name(row.tenant_id),
            display_name_zh: row.display_name_zh,
            display_name_en: row.display_name_en,
        })
    }

    async fn get_payment_account(
        &self,
        req: Request<pb::GetPaymentAccountRequest>,
    ) -> Reply<pb::GetPaymentAccountResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let tenant = names::PaymentAccountName::tenant_of(&req.get_ref().name, "name")?;
        let a = self.get_payment_account(&ctx, tenant).await?;
        ok(pb::GetPaymentAccountResponse {
            payment_account: Some(payments::to_proto(tenant, a.as_ref())),
        })
    }

    async fn update_payment_account(
        &self,
        req: Request<pb::UpdatePaymentAccountRequest>,
    ) -> Reply<pb::UpdatePaymentAccountResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let (name, input) = payments::AccountInput::from_request(req.into_inner());
        let tenant = names::PaymentAccountName::tenant_of(&name, "payment_account.name")?;
        let row = self.update_payment_account(&ctx, tenant, input).await?;
        ok(pb::UpdatePaymentAccountResponse {
            payment_account: Some(payments::to_proto(tenant, Some(&row))),
        })
    }

    async fn get_merchant_credentials(
        &self,
        req: Request<pb::GetMerchantCredentialsRequest>,
    ) -> Reply<pb::GetMerchantCredentialsResponse> {
        let ctx = RequestContext::from_request(&req)?;
        let tenant = names::PaymentAccountName::tenant_of(&req.get_ref().name, "name")?;
        let row = self.merchant_credentials(&ctx, tenant).await?;
        ok(pb::GetMerchantCredentialsResponse {
            payment_account: Some(payments::to_proto(tenant, Some(&row))),
            sealed_private_key: row.private_key_enc,
            sealed_apiv3_key: row.apiv3_key_enc,
        })
    }
}

impl TenantApp {
    fn spec_of(&self, module: &str) -> Option<&crate::registry::ModuleSpec> {
        self.registry().get(module).map(|m| &m.spec)
    }
}

#[tonic::async_trait]
impl ModuleService for TenantApp {
    async fn list_modules(
        &self,
        _req: Request<pb::ListModulesRequest>,
    ) -> Reply<pb::ListModulesResponse> {
        let modules = self
            .registry()
            .modules()
            .iter()
            .map(|m| convert::module(&m.spec, &m.defaults))
            .collect();
        ok(pb::ListModulesResponse { modules })
    }

    async fn get_module(&self, req: Request<pb::GetModuleRequest>) -> Reply<pb::GetModuleResponse> {
        let v = parse_name(&req.get_ref().name, &["modules"], "name")?;
        let m = self
            .registry()
            .get(v[0])
            .ok_or_else(|| TenantError::ModuleNotFound {
                module: v[0].to_string(),
            })?;
        ok(pb::GetModuleResponse {
            module: Some(convert::module(&m.spec, &m.defaults)),
        })
    }

    async fn list_industry_templates(
        &self,
        _req: Request<pb::ListIndustryTemplatesRequest>,
    ) -> Reply<pb::ListIndustryTemplatesResponse> {
        ok(pb::ListIndustryTemplatesResponse {
            templates: self
                .registry()
                .templates()
                .iter()
                .map(convert::template)
                .collect(),
        })
    }
}

/// `TenantService` as it is mounted: the generated server, except that `GetAppConfig` writes the
/// held encoded answer ([`TenantApp::app_config_reply`]) through
/// [`mm_proto::codec::EncodedCodec`] instead of cloning and encoding a message per call. Same
/// path, request decoding, message size limit and bytes on the wire; the layers around the
/// router (access, drain, metrics) see no difference.
#[derive(Clone)]
pub(crate) struct TenantRoutes {
    app: TenantApp,
    generated: pb::tenant_service_server::TenantServiceServer<TenantApp>,
    max_decoding_message_size: usize,
}

const GET_APP_CONFIG: &str = "/minimodules.tenant.v1.TenantService/GetAppConfig";

impl TenantRoutes {
    pub(crate) fn new(app: TenantApp, max_decoding_message_size: usize) -> Self {
        Self {
            generated: pb::tenant_service_server::TenantServiceServer::new(app.clone())
                .max_decoding_message_size(max_decoding_message_size),
            app,
            max_decoding_message_size,
        }
    }
}

impl tonic::server::NamedService for TenantRoutes {
    const NAME: &'static str = pb::tenant_service_server::SERVICE_NAME;
}

impl tonic::codegen::Service<tonic::codegen::http::Request<tonic::body::Body>> for TenantRoutes {
    type Response = tonic::codegen::http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = tonic::codegen::BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: tonic::codegen::http::Request<tonic::body::Body>) -> Self::Future {
        if req.uri().path() != GET_APP_CONFIG {
            return self.generated.call(req);
        }
        let (app, max) = (self.app.clone(), self.max_decoding_message_size);
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(mm_proto::codec::EncodedCodec::<
                pb::GetAppConfigRequest,
            >::default())
            .apply_max_message_size_config(Some(max), None);
            Ok(grpc.unary(BootReply(app), req).await)
        })
    }
}

struct BootReply(TenantApp);

impl tonic::server::UnaryService<pb::GetAppConfigRequest> for BootReply {
    type Response = bytes::Bytes;
    type Future = tonic::codegen::BoxFuture<Response<bytes::Bytes>, Status>;

    fn call(&mut self, req: Request<pb::GetAppConfigRequest>) -> Self::Future {
        let app = self.0.clone();
        Box::pin(async move {
            let reply = app.app_config_reply(&req.get_ref().wechat_appid).await?;
            Ok(Response::new(reply))
        })
    }
}
