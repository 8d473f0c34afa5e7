//! The yardstick: a minimal axum hello-world JSON route, loaded in the same run as the platform so
//! results are compared against what this machine does at that moment.

use axum::{Json, Router, routing::get};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:18090")]
    addr: std::net::SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let app = Router::new().route(
        "/hello",
        get(|| async { Json(serde_json::json!({"message": "hello"})) }),
    );
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
