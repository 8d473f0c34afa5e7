//! Extension points: a module's contract that other modules serve, found per tenant.
//!
//! A module that lets others take part in its use cases (ordering's checkout asking for
//! discounts) owns the messages of that exchange and names no module. A module that takes part
//! serves unary methods taking those messages in a service of its own package, and says so in
//! its spec: `"serves": {"ordering.discounts": "minimodules.marketing.v1.OrderDiscounts"}`. The
//! tenant contract reports, per tenant, which switched-on modules serve what
//! (`TenantModule.serves`); [`Extensions`] keeps that per tenant until the cache says the tenant
//! changed, so a checkout of a shop without any such module costs no call at all, and one with
//! them costs the calls and nothing to find them. The calls go through the platform channel like
//! any other (the same access checks; routed by the service's package to its module, in this
//! process or across the mesh).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use mm_proto::minimodules::tenant::v1 as pb;

use crate::auth::JwtKeys;
use crate::cache::{Cache, Invalidation};
use crate::ids::TenantId;
use crate::module_config::{ConfigError, is_retryable, service_request};
use crate::platform::Platform;

/// Per tenant: extension point → the services serving it, in module order.
type Served = Arc<HashMap<String, Vec<String>>>;

/// The services the tenant's switched-on modules serve for extension points, held per tenant.
#[derive(Clone)]
pub struct Extensions {
    caller: &'static str,
    channel: Platform,
    keys: Arc<JwtKeys>,
    held: Arc<RwLock<HashMap<TenantId, Served>>>,
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extensions")
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

impl Extensions {
    /// Asked by module `caller` (its service token's subject) over the platform channel; what is
    /// held follows `cache`'s invalidations (a module switched on or off bumps the tenant).
    pub fn new(caller: &'static str, channel: Platform, keys: Arc<JwtKeys>, cache: &Cache) -> Self {
        let held: Arc<RwLock<HashMap<TenantId, Served>>> = Arc::default();
        let dropped = held.clone();
        cache.on_invalidate(Arc::new(move |inv| {
            let mut map = match dropped.write() {
                Ok(m) => m,
                Err(p) => p.into_inner(),
            };
            match inv {
                Invalidation::Tenant(t) => drop(map.remove(t)),
                Invalidation::All => map.clear(),
            }
        }));
        Self {
            caller,
            channel,
            keys,
            held,
        }
    }

    /// The gRPC services serving `point` for tenant `t`; empty when no switched-on module does.
    pub async fn services(&self, t: TenantId, point: &str) -> Result<Vec<String>, ConfigError> {
        let held = self.held.read().ok().and_then(|m| m.get(&t).cloned());
        let served = match held {
            Some(s) => s,
            None => {
                let s = self.fetch(t).await?;
                if let Ok(mut m) = self.held.write() {
                    m.insert(t, s.clone());
                }
                s
            }
        };
        Ok(served.get(point).cloned().unwrap_or_default())
    }

    async fn fetch(&self, t: TenantId) -> Result<Served, ConfigError> {
        let mut client = pb::tenant_service_client::TenantServiceClient::new(self.channel.clone());
        let modules = client
            .list_tenant_modules(service_request(
                &self.keys,
                t,
                self.caller,
                pb::ListTenantModulesRequest {
                    parent: format!("tenants/{t}"),
                },
            )?)
            .await
            .map_err(|s| match s.code() {
                // No such tenant serves nothing (its own calls are refused elsewhere).
                tonic::Code::NotFound => ConfigError::Disabled,
                _ if is_retryable(&s) => ConfigError::Unavailable,
                _ => ConfigError::Internal(anyhow::anyhow!(
                    "tenant service: {:?}: {}",
                    s.code(),
                    s.message()
                )),
            })?
            .into_inner();
        let mut served: HashMap<String, Vec<String>> = HashMap::new();
        for m in modules.modules.iter().filter(|m| m.enabled) {
            let mut points: Vec<_> = m.serves.iter().collect();
            points.sort();
            for (point, service) in points {
                served
                    .entry(point.clone())
                    .or_default()
                    .push(service.clone());
            }
        }
        Ok(Arc::new(served))
    }
}

/// Calls method `method` of `service` (a service found through [`Extensions`]) with `msg`, as
/// module `caller` acting for tenant `t`: the generic client of a contract whose server is named
/// at run time.
pub async fn call<Req, Res>(
    channel: &Platform,
    keys: &JwtKeys,
    t: TenantId,
    caller: &str,
    service: &str,
    method: &str,
    msg: Req,
) -> Result<Res, tonic::Status>
where
    Req: prost::Message + Send + Sync + 'static,
    Res: prost::Message + Default + Send + Sync + 'static,
{
    let path = http::uri::PathAndQuery::try_from(format!("/{service}/{method}"))
        .map_err(|e| tonic::Status::internal(format!("{service}/{method} is not a path: {e}")))?;
    let req = service_request(keys, t, caller, msg)
        .map_err(|e| tonic::Status::internal(format!("{e:#}")))?;
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(format!("{service} cannot be reached: {e}")))?;
    let codec = tonic_prost::ProstCodec::<Req, Res>::default();
    Ok(grpc.unary(req, path, codec).await?.into_inner())
}
