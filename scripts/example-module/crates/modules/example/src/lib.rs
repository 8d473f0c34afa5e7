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
use mm_kernel::ids::tenant_from_name;
use mm_kernel::module::{BffDef, BffHost, DemoShop, ModuleContext, ModuleDef, Mounted};
use mm_migrations::{MigrationName, MigrationTrait, SchemaManager};
use mm_proto::minimodules::example::v1 as pb;
use pb::example_service_client::ExampleServiceClient;
use pb::example_service_server::{ExampleService, ExampleServiceServer, SERVICE_NAME};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement, Value};

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
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                match backend {
                    sea_orm::DatabaseBackend::Postgres => {
                        "SELECT text FROM example_greetings WHERE tenant_id = $1"
                    }
                    _ => "SELECT text FROM example_greetings WHERE tenant_id = ?",
                },
                [Value::from(tenant.to_string())],
            ))
            .await
            .map_err(|e| tonic::Status::unavailable(format!("reading the greeting failed: {e}")))?;
        let text = match row {
            Some(r) => r.try_get::<String>("", "text").unwrap_or_default(),
            None => String::new(),
        };
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
        let backend = ctx.db.get_database_backend();
        ctx.db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                match backend {
                    sea_orm::DatabaseBackend::Postgres => {
                        "INSERT INTO example_greetings (tenant_id, text) VALUES ($1, $2) ON CONFLICT DO NOTHING"
                    }
                    _ => "INSERT INTO example_greetings (tenant_id, text) VALUES (?, ?) ON CONFLICT DO NOTHING",
                },
                [Value::from(shop.tenant.to_string()), Value::from("欢迎光临")],
            ))
            .await?;
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
