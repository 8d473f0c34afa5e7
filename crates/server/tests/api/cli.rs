//! The `minimodules` binary itself: migrate, create-operator, serve, and a clean exit on SIGTERM.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mm_proto::minimodules::tenant::v1 as pb;
use mm_testkit::{Storage, TEST_SECRET, with_token};

fn command(storage: &Storage, dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_minimodules"));
    c.current_dir(dir)
        .env("MINIMODULES_DATABASE__URL", &storage.db_url)
        .env("MINIMODULES_CACHE__NAMESPACE", &storage.namespace)
        .env("MINIMODULES_AUTH__JWT_SECRET", TEST_SECRET)
        .env("MINIMODULES_SERVER__GRPC_ADDR", "127.0.0.1:0")
        .env("MINIMODULES_SERVER__HTTP_ADDR", "127.0.0.1:0")
        .env("MINIMODULES_LOG__FILTER", "warn")
        .env_remove("MINIMODULES_CONFIG")
        .env_remove("RUST_LOG");
    if let Some(r) = &storage.redis_url {
        c.env("MINIMODULES_CACHE__REDIS_URL", r);
    }
    c
}

fn address(line: &str, label: &str) -> Option<String> {
    line.trim_start().strip_prefix(label).map(|rest| {
        rest.trim_start_matches([' ', ':'])
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string()
    })
}

#[tokio::test]
async fn migrate_create_operator_serve_and_stop_on_sigterm() {
    let storage = Storage::new().await;
    let dir = std::env::temp_dir().join(format!("mm-cli-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();

    let out = command(&storage, &dir).arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));

    let out = command(&storage, &dir)
        .args(["create-operator", "--name", "Ops"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(
        token.split('.').count(),
        3,
        "stdout is exactly the token: {token:?}"
    );

    let mut child = command(&storage, &dir)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (grpc, http) = tokio::task::spawn_blocking(move || {
        let (mut grpc, mut http) = (None, None);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            grpc = grpc.or_else(|| address(&line, "gRPC + grpc-web"));
            http = http.or_else(|| address(&line, "HTTP (BFF)"));
            if grpc.is_some() && http.is_some() {
                break;
            }
        }
        (
            grpc.expect("grpc address printed"),
            http.expect("http address printed"),
        )
    })
    .await
    .unwrap();

    let channel = tonic::transport::Endpoint::from_shared(grpc)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut tenants = pb::tenant_service_client::TenantServiceClient::new(channel);
    let list = tenants
        .list_tenants(with_token(pb::ListTenantsRequest::default(), &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        list.tenants
            .iter()
            .map(|t| t.slug.as_str())
            .collect::<Vec<_>>(),
        vec!["demo-restaurant"]
    );
    let health = reqwest::get(format!("{http}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "server did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let log = std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}\n{log}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_secret_in_the_settings_file_is_refused_at_start() {
    let dir = std::env::temp_dir().join(format!("mm-cli-{}", uuid_like()));
    std::fs::create_dir_all(dir.join("config")).unwrap();
    std::fs::write(
        dir.join("config/minimodules.toml"),
        "[auth]\njwt_secret = \"0123456789abcdef0123456789abcdef\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_minimodules"))
        .current_dir(&dir)
        .arg("migrate")
        .env_remove("MINIMODULES_CONFIG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only from the environment"));
    let _ = std::fs::remove_dir_all(dir);
}

/// A misspelt variable stops the start, named, instead of being ignored (here it would have left
/// the server on the default SQLite file while the operator meant PostgreSQL).
#[test]
fn a_misspelt_setting_is_refused_at_start() {
    let dir = std::env::temp_dir().join(format!("mm-cli-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_minimodules"))
        .current_dir(&dir)
        .arg("migrate")
        .env_remove("MINIMODULES_CONFIG")
        .env("MINIMODULES_DATABSE__URL", "postgres://127.0.0.1/nowhere")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("MINIMODULES_DATABSE__URL") && err.contains("unknown setting `databse"),
        "{err}"
    );
    assert!(
        !dir.join("data").exists(),
        "nothing was created on the default database"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}
