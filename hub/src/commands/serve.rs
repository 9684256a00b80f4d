use anyhow::{Context, Result};
use hub_core::runner::Runner;
use std::future::IntoFuture;
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::{watch, Notify};

use crate::config::Config;

pub async fn serve(cfg: Config, with_sandbox: bool) -> Result<ExitCode> {
    if with_sandbox {
        super::sandbox::available()?;
    }
    let hub = super::hub(&cfg).await?;
    for r in hub.plugins.refused() {
        tracing::warn!(file = %r.file.display(), reason = %r.reason, "connector plugin refused");
    }
    hub.record_loaded_plugins().await?;

    let sandbox = if with_sandbox {
        Some(super::sandbox::start_beside(&cfg, &hub).await?)
    } else {
        None
    };

    let wake = Arc::new(Notify::new());
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let host = hostname();
    for i in 0..cfg.runners {
        let runner = Runner::new(hub.clone(), format!("{host}:{}:{i}", std::process::id()));
        tasks.push(tokio::spawn(
            runner.run_forever(wake.clone(), shutdown_rx.clone()),
        ));
    }
    // お問い合わせ that are pending or failed are delivered (again) with a doubling delay.
    tasks.push(tokio::spawn(hub_core::inquiries::retry_forever(
        hub.clone(),
        shutdown_rx.clone(),
    )));
    tasks.push(tokio::spawn(hub_core::scheduler::run_forever(
        hub.clone(),
        wake.clone(),
        shutdown_rx.clone(),
    )));

    let app = web::router(web::AppState {
        hub: hub.clone(),
        runs_queued: wake,
        login_limit: Arc::default(),
        edge: web::edge::EdgeConfig {
            public_https: cfg.public_url.starts_with("https://"),
            trust_proxy: cfg.trust_proxy,
        },
    });
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; is another hub running? choose another with --listen",
                cfg.listen
            )
        })?;
    tracing::info!(url = %cfg.public_url, database = %super::redact_url(&cfg.database_url), "Renkei Hub is serving");
    eprintln!(
        "Renkei Hub: {}  (API token: `hub token create NAME`)",
        cfg.public_url
    );
    // The peer's address feeds the sign-in limits (`web::edge`).
    let mut stopping = shutdown_rx.clone();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stopping.wait_for(|stop| *stop).await;
    })
    .into_future();
    let mut server = tokio::spawn(server);
    let failed = tokio::select! {
        served = &mut server => Some(served),
        _ = shutdown_signal() => None,
    };
    // Stop claiming runs and cancel those in flight (their workers are killed, the runs recorded
    // as interrupted and resumed at the next start) while the server drains; all of it within
    // `shutdown_secs`, then the process ends whatever still waits (a hung request).
    let _ = shutdown_tx.send(true);
    let bound = cfg.shutdown_timeout;
    let drained = tokio::time::timeout(bound, async move {
        let served = match failed {
            Some(served) => served,
            None => server.await,
        };
        for t in tasks {
            let _ = t.await;
        }
        if let Some(sb) = sandbox {
            // The emulators save a change shortly after it, and only while they run.
            tokio::time::sleep(SANDBOX_SAVE).await;
            super::sandbox::stop(sb);
        }
        hub.close().await;
        served
    })
    .await;
    match drained {
        Ok(Ok(served)) => served.context("the HTTP server failed")?,
        Ok(Err(e)) => anyhow::bail!("the HTTP server stopped: {e}"),
        Err(_) => tracing::warn!(
            secs = bound.as_secs(),
            "shutdown took longer than shutdown_secs; stopping what is left"
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// Longer than the emulators wait before saving a change (200 ms).
const SANDBOX_SAVE: std::time::Duration = std::time::Duration::from_millis(500);

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "hub".into())
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
