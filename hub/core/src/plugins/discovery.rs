//! Discovery: find the libraries in the plugin directories and probe each in its own
//! `hub worker --probe FILE` child, so a library that crashes or hangs while loading is
//! refused with the reason and the hub carries on.

use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::process::{self, Mode};
use super::wire::{describe_exit, human_duration, Hello};
use super::{HostConfig, PluginInfo, RefusedPlugin, CONNECTOR_LIBRARY_MARK};

/// Probes running at once: enough to start quickly, few enough not to starve a small machine.
const PARALLEL_PROBES: usize = 4;
/// Longest part of a worker's stderr quoted in a refusal reason.
const MAX_QUOTE: usize = 300;

/// Loaded plugins (first of each connector id wins) and refused files, in directory order.
pub(super) async fn discover(
    config: &HostConfig,
    probe_timeout: Duration,
    marked: &[PathBuf],
) -> (Vec<PluginInfo>, Vec<RefusedPlugin>) {
    let files = library_files(&config.plugin_dirs, marked);
    let probes: Vec<(PathBuf, Result<PluginInfo, String>)> = futures::stream::iter(files)
        .map(|file| async move {
            let result = probe(config, &file, probe_timeout).await;
            (file, result)
        })
        .buffered(PARALLEL_PROBES)
        .collect()
        .await;
    let mut loaded: Vec<PluginInfo> = Vec::new();
    let mut refused = Vec::new();
    let mut by_id: HashMap<String, PathBuf> = HashMap::new();
    for (file, result) in probes {
        match result {
            Ok(info) => {
                if let Some(first) = by_id.get(&info.id) {
                    refused.push(RefusedPlugin {
                        reason: format!(
                            "{}: duplicate connector id `{}`, already loaded from {}",
                            file.display(),
                            info.id,
                            first.display()
                        ),
                        file,
                    });
                } else {
                    by_id.insert(info.id.clone(), file);
                    loaded.push(info);
                }
            }
            Err(reason) => refused.push(RefusedPlugin { file, reason }),
        }
    }
    for r in &refused {
        tracing::debug!(file = %r.file.display(), reason = %r.reason, "plugin refused");
    }
    (loaded, refused)
}

/// The platform's library files (`*.so`, `*.dylib`, `*.dll`) in each directory, sorted by name;
/// the same file reached twice (a directory listed twice, a symlink) counts once. In a `marked`
/// directory only the files whose name carries [`CONNECTOR_LIBRARY_MARK`] count.
fn library_files(dirs: &[PathBuf], marked: &[PathBuf]) -> Vec<PathBuf> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for dir in dirs {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(dir = %dir.display(), "plugin directory not readable: {e}");
                continue;
            }
        };
        let only_marked = marked.contains(dir);
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_library(p))
            .filter(|p| !only_marked || carries_mark(p))
            .collect();
        files.sort();
        for f in files {
            let key = std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone());
            if seen.insert(key) {
                out.push(f);
            }
        }
    }
    out
}

fn carries_mark(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains(CONNECTOR_LIBRARY_MARK))
}

fn is_library(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()) == Some(std::env::consts::DLL_EXTENSION)
        && path.is_file()
}

/// Loads one library in a throw-away worker and reads what it said.
async fn probe(config: &HostConfig, file: &Path, timeout: Duration) -> Result<PluginInfo, String> {
    let mut child = process::spawn(&config.worker_exe, Mode::Probe, file, config.memory_limit)
        .map_err(|e| {
            format!(
                "{}: cannot start a worker process ({}): {e}",
                file.display(),
                config.worker_exe.display()
            )
        })?;
    // The probe reads no input, but its stdin stays open while the hub waits: the worker
    // exits when it closes, so a probe stuck in loading dies with a hub that was killed.
    let _stdin = child.stdin.take();
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            return Err(format!(
                "{}: the worker process failed: {e}",
                file.display()
            ))
        }
        // Dropping the child kills it (kill_on_drop).
        Err(_) => {
            return Err(format!(
                "{}: timed out while loading after {}",
                file.display(),
                human_duration(timeout)
            ))
        }
    };
    let stderr_tail = last_line(&output.stderr);
    for line in String::from_utf8_lossy(&output.stderr).lines() {
        if !line.trim().is_empty() {
            tracing::debug!(target: "plugin", file = %file.display(), "{line}");
        }
    }
    let answer = String::from_utf8_lossy(&output.stdout)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Hello>(l.trim()));
    match answer {
        Some(Ok(Hello::Ok(h))) => match h.manifest {
            Some(manifest) => Ok(PluginInfo {
                id: h.id,
                version: h.version,
                sdk_version: h.sdk_version,
                file: file.to_path_buf(),
                manifest: *manifest,
            }),
            None => Err(format!("{}: the probe sent no manifest", file.display())),
        },
        // The worker's message already names the file.
        Some(Ok(Hello::Err(reason))) => Err(reason),
        _ if !output.status.success() => {
            let mut reason = format!(
                "{}: crashed while loading: {}",
                file.display(),
                describe_exit(output.status)
            );
            if let Some(tail) = stderr_tail {
                reason.push_str(&format!(" ({tail})"));
            }
            Err(reason)
        }
        Some(Err(e)) => Err(format!(
            "{}: the worker's probe answer could not be read: {e}",
            file.display()
        )),
        None => Err(format!(
            "{}: the worker exited without a probe answer",
            file.display()
        )),
    }
}

fn last_line(bytes: &[u8]) -> Option<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.chars().take(MAX_QUOTE).collect())
}
