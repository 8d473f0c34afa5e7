//! The `minimodules` command: `serve` (the default) runs the platform; `migrate` brings the
//! database schema up to date; `create-operator` bootstraps the first platform operator and prints
//! a token for it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use mm_kernel::config::Settings;
use mm_kernel::{Principal, Role};

#[derive(Parser)]
#[command(
    name = "minimodules",
    version,
    about = "Multi-tenant WeChat mini-program platform"
)]
struct Cli {
    /// Settings file (TOML); defaults to $MINIMODULES_CONFIG or config/minimodules.toml.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform (the default).
    Serve {
        /// Host only these modules' services, e.g. --modules tenant (default: all).
        #[arg(long, value_delimiter = ',')]
        modules: Option<Vec<String>>,
        /// Do not serve the mini-program BFF from this process.
        #[arg(long)]
        no_bff: bool,
    },
    /// Run database migrations and exit.
    Migrate,
    /// Create a platform operator and print an access token for it.
    CreateOperator {
        /// Display name of the operator.
        #[arg(long, default_value = "Platform operator")]
        name: String,
        /// Lifetime of the printed token, in hours.
        #[arg(long, default_value_t = 24)]
        token_hours: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut settings = Settings::load(cli.config.as_deref())?;
    mm_kernel::telemetry::init(&settings.log.format, &settings.log.filter);
    match cli.command.unwrap_or(Command::Serve {
        modules: None,
        no_bff: false,
    }) {
        Command::Serve { modules, no_bff } => {
            if let Some(m) = modules {
                settings.server.modules = m;
            }
            if no_bff {
                settings.bff.enabled = false;
            }
            let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
            let app = mm_server::App::start(settings).await?;
            println!("MiniModules is running");
            println!(
                "  gRPC + grpc-web : http://{}  (reflection and health on)",
                app.grpc_addr
            );
            println!("  HTTP (BFF)      : http://{}", app.http_addr);
            println!(
                "  boot config     : http://{}/api/v1/app/config?appid={}",
                app.http_addr,
                mm_server::demo::DEMO_APPID
            );
            println!(
                "  OpenAPI         : http://{}/api/openapi.json",
                app.http_addr
            );
            println!("  metrics         : http://{}/metrics", app.http_addr);
            app.run_until(mm_server::shutdown_signal(), grace).await
        }
        Command::Migrate => {
            let db = mm_kernel::db::connect(&settings.database).await?;
            mm_server::migrate(&db).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::CreateOperator { name, token_hours } => {
            let db = mm_kernel::db::connect(&settings.database).await?;
            mm_server::migrate(&db).await?;
            let cache = mm_server::connect_cache(&settings).await?;
            let ctx = mm_server::module_context(&settings, db, cache);
            let app = mm_tenant::TenantApp::from_context(&ctx)?;
            let id = app
                .create_operator(&name)
                .await
                .context("Failed to create the operator")?;
            let keys = mm_server::jwt_keys(&settings)?;
            let token = keys
                .issue_with_ttl(
                    &Principal {
                        subject: id.clone(),
                        tenant: None,
                        role: Role::Operator,
                        permissions: vec![],
                    },
                    token_hours * 3600,
                )
                .context("Failed to sign the token")?;
            eprintln!("created platform operator {id}; access token (valid {token_hours} h):");
            println!("{token}");
            Ok(())
        }
    }
}
