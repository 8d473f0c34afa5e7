//! mm-example: the smallest whole module (a contract, a table, a gRPC service, a JSON route with
//! its OpenAPI path, demo data), added to the server by one registration line. It is a template
//! that scripts/check-module-plugin.sh copies into a throwaway checkout; the product never
//! builds it.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use mm_bff::error::{ApiError, ErrorBody};
use mm_bff::extract::Query;
use mm_bff::routes::app::{AppConfigQuery, tenant_of};
use mm_kernel::SystemScope;
use mm_kernel::ids::tenant_from_name;
use mm_kernel::module::{BffDef, BffHost, DemoShop, ModuleContext, ModuleDef, Mounted};
use mm_migrations::{MigrationName, MigrationTrait, SchemaManager};
use mm_proto::minimodules::example::v1 as pb;
use pb::example_service_client::ExampleServiceClient;
use pb::example_service_server::{ExampleService, ExampleServiceServer, SERVICE_NAME};
use sea_orm::{DatabaseConnection, EntityTrait as _, Set};

/// `example_greetings`: one greeting per shop. Its `tenant_id` is typed, and `tenant_owned!` lets
/// a `TenantScope` filter it (and PostgreSQL's row-level security guard it) without a hand-written
/// tenant filter.
mod greetings {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "example_greetings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tenant_id: mm_kernel::TenantId,
        pub text: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

mm_kernel::tenant_owned!(greetings);

/// A shop's greeting is public (the RPC is anonymous), so reading it is the platform acting for
/// the shop named in the request; a module's private data would take the scope from
/// `RequestContext::authorize_tenant` instead.
const PUBLIC: SystemScope = SystemScope::named("example.public");

/// The module for the server's module list.
pub fn module() -> ModuleDef {
    ModuleDef {
        id: "example",
        spec: include_str!("../module.json"),
        templates: &[],
        mount: Some(mount),
        migrations,
        bff: Some(BffDef {
            routes,
            openapi: <ApiDoc as utoipa::OpenApi>::openapi,
        }),
        demo: Some(demo),
        config_rules: None,
    }
}

fn mount(ctx: &ModuleContext, routes: &mut tonic::service::RoutesBuilder) -> anyhow::Result<Mounted> {
    routes.add_service(ExampleServiceServer::new(Greetings { db: ctx.db.clone() }));
    Ok(vec![SERVICE_NAME])
}

struct Greetings {
    db: DatabaseConnection,
}

#[tonic::async_trait]
impl ExampleService for Greetings {
    async fn get_greeting(
        &self,
        req: tonic::Request<pb::GetGreetingRequest>,
    ) -> Result<tonic::Response<pb::GetGreetingResponse>, tonic::Status> {
        let tenant = tenant_from_name(&req.get_ref().parent, "parent")?;
        let scope = PUBLIC.tenant(tenant);
        let unavailable = |e: sea_orm::DbErr| {
            tonic::Status::unavailable(format!("reading the greeting failed: {e}"))
        };
        let txn = scope.begin(&self.db).await.map_err(unavailable)?;
        let row = scope
            .find::<greetings::Entity>()
            .one(&txn)
            .await
            .map_err(unavailable)?;
        txn.commit().await.map_err(unavailable)?;
        let text = row.map(|r| r.text).unwrap_or_default();
        Ok(tonic::Response::new(pb::GetGreetingResponse { text }))
    }
}

fn migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![Box::new(CreateGreetings)]
}

struct CreateGreetings;

impl MigrationName for CreateGreetings {
    fn name(&self) -> &str {
        "m20991231_000000_example_init"
    }
}

#[mm_migrations::async_trait::async_trait]
impl MigrationTrait for CreateGreetings {
    async fn up(&self, manager: &SchemaManager) -> Result<(), mm_migrations::DbErr> {
        use mm_migrations::cols::{id, str_};
        manager
            .create_table(
                mm_migrations::Table::create()
                    .table("example_greetings")
                    .if_not_exists()
                    .col(id("tenant_id").primary_key())
                    .col(str_("text", 100))
                    .to_owned(),
            )
            .await
    }
}

fn demo<'a>(
    ctx: &'a ModuleContext,
    shop: &'a DemoShop,
) -> futures::future::BoxFuture<'a, anyhow::Result<()>> {
    Box::pin(async move {
        let scope = SystemScope::named("example.demo").tenant(shop.tenant);
        let txn = scope.begin(&ctx.db).await?;
        greetings::Entity::insert(greetings::ActiveModel {
            tenant_id: Set(scope.tenant()),
            text: Set("欢迎光临".into()),
        })
        .on_conflict_do_nothing_on([greetings::Column::TenantId])
        .exec(&txn)
        .await?;
        txn.commit().await?;
        Ok(())
    })
}

/// The greeting as the mini-program reads it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct GreetingDto {
    /// The greeting, empty when the shop has none.
    pub text: String,
}

/// The calling mini-program's shop's greeting.
#[utoipa::path(get, path = "/api/v1/example/greeting", tag = "example",
    params(AppConfigQuery), responses((status = 200, body = GreetingDto), (status = 404, body = ErrorBody)))]
async fn get_greeting(
    State(state): State<Arc<mm_bff::ModuleState<Own>>>,
    Query(query): Query<AppConfigQuery>,
    headers: HeaderMap,
) -> Result<axum::Json<GreetingDto>, ApiError> {
    let tenant = tenant_of(&state.bff, &query, &headers).await?;
    let text = state
        .client
        .clone()
        .get_greeting(mm_bff::forward(
            &headers,
            pb::GetGreetingRequest {
                parent: format!("tenants/{tenant}"),
            },
        ))
        .await?
        .into_inner()
        .text;
    Ok(axum::Json(GreetingDto { text }))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(get_greeting), components(schemas(GreetingDto)))]
struct ApiDoc;

/// The module's own route state: its client.
struct Own {
    client: ExampleServiceClient<mm_kernel::platform::Platform>,
}

fn routes(host: &BffHost) -> anyhow::Result<Router> {
    mm_bff::module_routes(
        host,
        |bff| Own {
            client: ExampleServiceClient::new(bff.channel.clone()),
        },
        Router::new().route("/api/v1/example/greeting", axum::routing::get(get_greeting)),
    )
}
