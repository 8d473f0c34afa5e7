//! The `minimodules` command: `serve` (the default) runs the platform; `migrate` brings the
//! database schema up to date; `create-operator` bootstraps the first platform operator and prints
//! a token for it.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use mm_kernel::config::{Environment, Settings};
use std::sync::Arc;

// glibc's malloc spent a fifth of the CPU of a gRPC call under load (arenas contended across
// worker threads) and kept freed memory in per-thread arenas; mimalloc does neither.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc commits each arena it reserves at once by default ("eager commit", on Linux), and the
/// server's resident memory after the benchmark stayed about a third higher for it (122 MB against
/// 87 MB on SQLite, the same throughput). Set from an ELF constructor, before the Rust runtime's
/// first allocation reserves the first arena; `MIMALLOC_ARENA_EAGER_COMMIT` in the environment
/// still decides when given.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static MIMALLOC_OPTIONS: extern "C" fn() = mimalloc_options;

/// `mi_option_arena_eager_commit` in mimalloc v3's `mimalloc.h` (the bindings name v2's options
/// only); the version is pinned in Cargo.lock.
#[cfg(target_os = "linux")]
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// `mi_option_purge_delay` in the same header. mimalloc gives freed pages back to the OS a second
/// after they empty by default, and only when it next allocates or frees: a server that falls
/// quiet after a burst keeps the burst's memory. Purged at once, the server's resident memory
/// after every benchmark case on SQLite was 82 MB instead of 87 MB, with the same throughput
/// (create order, `GetAppConfig`; bench/README.md, "Eighth round").
#[cfg(target_os = "linux")]
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

#[cfg(target_os = "linux")]
extern "C" fn mimalloc_options() {
    unsafe extern "C" {
        fn getenv(name: *const std::ffi::c_char) -> *const std::ffi::c_char;
    }
    // SAFETY: a NUL-terminated name; nothing else runs yet, so nothing changes the environment
    // under us, and mi_option_set may be called at any time.
    unsafe {
        if getenv(c"MIMALLOC_ARENA_EAGER_COMMIT".as_ptr()).is_null() {
            libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        }
        if getenv(c"MIMALLOC_PURGE_DELAY".as_ptr()).is_null() {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
        }
    }
}

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
        /// Which modules' services this process hosts: `all` (the default), `none` (a BFF-only
        /// process), or ids, e.g. --modules catalog,ordering. The others are called at their
        /// `upstreams` addresses.
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
        /// Login name of the operator.
        #[arg(long, default_value = "operator")]
        login: String,
        /// Display name of the operator.
        #[arg(long, default_value = "Platform operator")]
        name: String,
        /// Read the password from this environment variable; otherwise one is generated and
        /// printed on stderr.
        #[arg(long)]
        password_env: Option<String>,
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
            let signal = mm_server::shutdown_signal();
            let app = mm_server::App::start(settings).await?;
            let (g, h) = (shown(app.grpc_addr), shown(app.http_addr));
            let appid = mm_server::demo::DEMO_APPID;
            let reflection = if app.settings.server.reflection(app.settings.environment) {
                "reflection and health on"
            } else {
                "health on, reflection off"
            };
            let metrics = match (app.metrics_addr, &app.settings.metrics.token) {
                (Some(m), _) => format!("http://{}/metrics", shown(m)),
                (None, Some(_)) => format!("http://{h}/metrics (bearer token)"),
                (None, None) if app.settings.environment == Environment::Dev => {
                    format!("http://{h}/metrics")
                }
                (None, None) => "not exposed (set metrics.addr or metrics.token)".to_string(),
            };
            let banner = format!(
                "MiniModules is running\n  \
                 gRPC + grpc-web : http://{g}  ({reflection})\n  \
                 HTTP (BFF)      : http://{h}\n  \
                 admin dashboard : http://{h}/admin/\n  \
                 boot config     : http://{h}/api/v1/app/config?appid={appid}\n  \
                 OpenAPI         : http://{h}/api/openapi.json\n  \
                 metrics         : {metrics}\n  \
                 probes          : http://{h}/healthz (live), http://{h}/readyz (ready)\n"
            );
            // A closed stdout must not take the server down, so no println! here.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), banner.as_bytes());
            app.run_until(signal, grace).await
        }
        Command::Migrate => {
            let db = mm_kernel::db::connect(&settings.database).await?;
            mm_server::migrate(&db).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::CreateOperator {
            login,
            name,
            password_env,
            token_hours,
        } => {
            let db = mm_kernel::db::connect(&settings.database).await?;
            mm_server::migrate(&db).await?;
            let cache = mm_server::connect_cache(&settings).await?;
            let keys = Arc::new(mm_server::jwt_keys(&settings)?);
            // The CLI makes no outside or module calls; the URLs only have to be well-formed.
            let unused = mm_kernel::platform::Platform::new(
                tonic::transport::Endpoint::from_static("http://127.0.0.1:9").connect_lazy(),
            );
            let ctx = mm_server::module_context(
                &settings,
                db,
                cache,
                keys,
                mm_server::ExternalUrls::unused(),
                unused,
            )?;
            let identity = mm_identity::IdentityApp::from_context(&ctx)?;
            let (password, generated) = match password_env {
                Some(var) => (
                    std::env::var(&var).with_context(|| format!("{var} is not set"))?,
                    false,
                ),
                None => (format!("Op-{}", uuid::Uuid::new_v4().simple()), true),
            };
            let op = identity
                .create_operator(&login, &name, &password)
                .await
                .context("Failed to create the operator")?;
            let token = identity
                .operator_token(&op, token_hours * 3600)
                .await
                .context("Failed to sign the token")?;
            eprintln!(
                "created platform operator {} (login {})",
                op.operator_id, op.login_name
            );
            if generated {
                eprintln!("generated password: {password}");
            }
            eprintln!("access token (valid {token_hours} h) on stdout:");
            println!("{token}");
            Ok(())
        }
    }
}

/// An address as a person would type it: a wildcard bind is reached through localhost.
fn shown(addr: std::net::SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    }
}
