//! `tracing` output: human-readable by default, one JSON object per line with `--log-format json`.
//! Level from `RUST_LOG` (default info). Nothing logged anywhere carries a secret value: the
//! secret type redacts itself and the worker pipe is never logged.

use tracing_subscriber::EnvFilter;

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
