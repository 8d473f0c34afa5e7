//! The real `minimodules` binary as a child process, for tests that must kill it (`kill -9`),
//! stop it (SIGTERM) or restart it on the same storage: fault, shutdown and outage tests.
//! In-process apps (`spawn_app`) cannot be killed half-way through a step; a process can.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{Storage, TEST_SECRET};

/// A server process on a test's storage.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:<grpc port>`.
    pub grpc_url: String,
    /// `http://127.0.0.1:<http port>`.
    pub http_url: String,
    /// Where its stderr goes (read it in failure messages with [`ServerProcess::log`]).
    pub log_path: PathBuf,
}

/// How to start a server process: the binary, the storage and extra `MINIMODULES_*` settings.
#[derive(Clone)]
pub struct ProcessSpec {
    bin: PathBuf,
    env: Vec<(String, String)>,
    dir: PathBuf,
}

impl ProcessSpec {
    /// A spec for `bin` (pass `env!("CARGO_BIN_EXE_minimodules")`) on `storage`: ephemeral ports,
    /// the test secret and key, dev mode with the demo shop, logs at `warn`.
    pub fn new(bin: impl AsRef<Path>, storage: &Storage) -> Self {
        let dir = std::env::temp_dir().join(format!("mm-proc-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("process dir");
        let mut env = vec![
            ("MINIMODULES_DATABASE__URL".into(), storage.db_url.clone()),
            (
                "MINIMODULES_CACHE__NAMESPACE".into(),
                storage.namespace.clone(),
            ),
            ("MINIMODULES_AUTH__JWT_SECRET".into(), TEST_SECRET.into()),
            (
                "MINIMODULES_SECRETS__KEY".into(),
                "bWluaW1vZHVsZXMtdGVzdC1rZXktMzItYnl0ZXMhISE=".into(),
            ),
            ("MINIMODULES_SERVER__GRPC_ADDR".into(), "127.0.0.1:0".into()),
            ("MINIMODULES_SERVER__HTTP_ADDR".into(), "127.0.0.1:0".into()),
            ("MINIMODULES_LOG__FILTER".into(), "warn".into()),
            ("MINIMODULES_ADMIN__ENABLED".into(), "false".into()),
        ];
        if let Some(r) = &storage.redis_url {
            env.push(("MINIMODULES_CACHE__REDIS_URL".into(), r.clone()));
        }
        Self {
            bin: bin.as_ref().to_path_buf(),
            env,
            dir,
        }
    }

    /// Sets (or overrides) one setting, e.g. `("MINIMODULES_JOBS__SWEEP_INTERVAL_MS", "50")`.
    #[must_use]
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.into()));
        self
    }

    /// Removes a setting.
    #[must_use]
    pub fn without(mut self, key: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self
    }

    /// The working directory the server runs in (its `data/` lives there in dev mode).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts the server and waits until it prints its addresses (it is serving then).
    pub async fn start(&self) -> ServerProcess {
        self.try_start()
            .await
            .unwrap_or_else(|e| panic!("server process did not start: {e}"))
    }

    /// Starts the server; an error (with its log) when it exits before serving.
    pub async fn try_start(&self) -> Result<ServerProcess, String> {
        let log_path = self
            .dir
            .join(format!("stderr-{}.log", uuid::Uuid::new_v4().simple()));
        let mut cmd = Command::new(&self.bin);
        cmd.current_dir(&self.dir)
            .arg("serve")
            .env_remove("MINIMODULES_CONFIG")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log_path).map_err(|e| e.to_string())?);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let addresses = tokio::task::spawn_blocking(move || {
            let (mut grpc, mut http) = (None, None);
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref().map_while(Result::ok) {
                grpc = grpc.or_else(|| address(&line, "gRPC + grpc-web"));
                http = http.or_else(|| address(&line, "HTTP (BFF)"));
                if grpc.is_some() && http.is_some() {
                    break;
                }
            }
            // Keep draining, so a chatty server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            grpc.zip(http)
        })
        .await
        .map_err(|e| e.to_string())?;
        match addresses {
            Some((grpc, http)) => Ok(ServerProcess {
                child,
                grpc_url: format!("http://{grpc}"),
                http_url: format!("http://{http}"),
                log_path,
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(std::fs::read_to_string(&log_path).unwrap_or_default())
            }
        }
    }
}

/// `host:port` from a banner line such as `  gRPC + grpc-web : http://localhost:50051  (...)`.
fn address(line: &str, label: &str) -> Option<String> {
    line.trim_start().strip_prefix(label).map(|rest| {
        let url = rest
            .trim_start_matches([' ', ':'])
            .split_whitespace()
            .next()
            .unwrap_or("");
        // The banner prints a URL; callers add the scheme themselves.
        url.strip_prefix("http://")
            .unwrap_or(url)
            .replace("localhost", "127.0.0.1")
    })
}

impl ServerProcess {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no destructor, no flush, no goodbye.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM (and does not wait).
    pub fn sigterm(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -TERM failed");
    }

    /// Waits for the process to end, at most `limit`; None when it is still running.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            if started.elapsed() > limit {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Its stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// A gRPC channel to it.
    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(self.grpc_url.clone())
            .expect("url")
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .expect("connect to gRPC")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
