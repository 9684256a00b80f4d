use anyhow::Result;
use sandbox::SandboxOptions;
use std::path::PathBuf;
use std::process::ExitCode;

/// Starts the emulators, prints the JSON line once all listen, and serves until Ctrl-C.
pub async fn run(
    port_base: Option<u16>,
    data_dir: Option<PathBuf>,
    extra_records: usize,
) -> Result<ExitCode> {
    let sb = sandbox::start(SandboxOptions {
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
