//! The sandbox emulators, when this build has them (the default `sandbox` feature): `hub
//! sandbox`, and `hub serve --sandbox` beside the hub. A production build made with
//! `--no-default-features` does not link them, and both answer how to get a build that does.

use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;

/// The emulators running beside `hub serve`; none can exist in a build without them.
#[cfg(feature = "sandbox")]
pub type Emulators = sandbox::RunningSandbox;
#[cfg(not(feature = "sandbox"))]
pub enum Emulators {}

/// Fails (before anything starts) when this build has no sandbox.
pub fn available() -> Result<()> {
    #[cfg(not(feature = "sandbox"))]
    return Err(missing());
    #[cfg(feature = "sandbox")]
    Ok(())
}

#[cfg(not(feature = "sandbox"))]
fn missing() -> anyhow::Error {
    anyhow::anyhow!(
        "this hub was built without the sandbox (the local emulators): build it with them \
         (`cargo build -p hub`, the `sandbox` feature is on by default) or run one that has them"
    )
}

/// `hub serve --sandbox`: starts the emulators, keeping their data and ports in the data folder
/// so the registered connections reach the same emulators, with the same records, after a
/// restart; registers the plugins' sandbox presets as connections.
#[cfg(feature = "sandbox")]
pub async fn start_beside(cfg: &Config, hub: &hub_core::Hub) -> Result<Emulators> {
    let sb = sandbox::start(sandbox::SandboxOptions {
        data_dir: Some(crate::config::data_folder(&cfg.database_url).join("sandbox")),
        ..Default::default()
    })
    .await?;
    let created = super::sandbox_presets::register(hub, &sb.announcement()).await;
    println!("{}", sb.announcement());
    tracing::info!(
        connections = created,
        "sandbox emulators started and registered as connections"
    );
    Ok(sb)
}

#[cfg(not(feature = "sandbox"))]
pub async fn start_beside(_cfg: &Config, _hub: &hub_core::Hub) -> Result<Emulators> {
    Err(missing())
}

pub fn stop(emulators: Emulators) {
    #[cfg(feature = "sandbox")]
    emulators.shutdown();
    #[cfg(not(feature = "sandbox"))]
    match emulators {}
}

/// `hub sandbox`: starts the emulators, prints the JSON line once all listen, and serves until
/// Ctrl-C.
#[cfg(feature = "sandbox")]
pub async fn run(
    port_base: Option<u16>,
    data_dir: Option<PathBuf>,
    extra_records: usize,
) -> Result<ExitCode> {
    let sb = sandbox::start(sandbox::SandboxOptions {
        port_base,
        data_dir,
        extra_records,
    })
    .await?;
    println!("{}", sb.announcement());
    super::serve::shutdown_signal().await;
    sb.shutdown();
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "sandbox"))]
pub async fn run(
    _port_base: Option<u16>,
    _data_dir: Option<PathBuf>,
    _extra_records: usize,
) -> Result<ExitCode> {
    Err(missing())
}
