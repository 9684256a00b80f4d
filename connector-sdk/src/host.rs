//! The loader side of the boundary: opens a plugin library, checks its versions and calls it.
//! The hub uses this only inside its worker process, so a crashing plugin cannot take the hub down.

use std::path::{Path, PathBuf};

use crate::abi::{PluginVTable, ABI_VERSION, ABI_VERSION_SYMBOL, SDK_VERSION, VTABLE_SYMBOL};
use crate::connector::{Connection, Connector};
use crate::error::{ConnectorError, ErrorKind};
use crate::manifest::Manifest;
use crate::protocol::{decode_outcome, Call, CallRequest, Reply, WireConnection};
use crate::record::{CheckResult, ReadPage, ReadRequest, WriteRequest, WriteResult};
use crate::schema::ObjectSchema;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot be opened as a library: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("{path}: not a Renkei Hub connector (no symbol `{symbol}`)")]
    NotAConnector { path: PathBuf, symbol: String },
    #[error("{path}: plugin ABI version {plugin} does not match the hub's ABI version {host}; rebuild the plugin against connector-sdk {sdk}")]
    AbiMismatch {
        path: PathBuf,
        plugin: u32,
        host: u32,
        sdk: String,
    },
    #[error("{path}: built with connector-sdk {plugin}, the hub has connector-sdk {host}; rebuild the plugin")]
    SdkMismatch {
        path: PathBuf,
        plugin: String,
        host: String,
    },
    #[error("{path}: the plugin's manifest is unusable: {reason}")]
    BadManifest { path: PathBuf, reason: String },
}

pub struct LoadedPlugin {
    pub path: PathBuf,
    pub sdk_version: String,
    pub manifest: Manifest,
    vtable: &'static PluginVTable,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("path", &self.path)
            .field("id", &self.manifest.id)
            .field("sdk_version", &self.sdk_version)
            .finish()
    }
}

/// Same major.minor (for 0.x: same minor) as the host's SDK.
fn sdk_compatible(plugin: &str, host: &str) -> bool {
    let mm = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
    mm(plugin) == mm(host)
}

impl LoadedPlugin {
    /// Opens the library (never closed again: unloading is unsafe with thread-locals) and
    /// checks ABI version, SDK version and manifest.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let path_buf = path.to_path_buf();
        // SAFETY: loading runs the library's initialisers; this process is the disposable worker.
        let lib = unsafe { libloading::Library::new(path) }.map_err(|e| LoadError::Open {
            path: path_buf.clone(),
            reason: e.to_string(),
        })?;
        let lib: &'static libloading::Library = Box::leak(Box::new(lib));

        let abi =
            unsafe { lib.get::<extern "C" fn() -> u32>(ABI_VERSION_SYMBOL) }.map_err(|_| {
                LoadError::NotAConnector {
                    path: path_buf.clone(),
                    symbol: "renkei_abi_version".into(),
                }
            })?;
        let plugin_abi = abi();
        if plugin_abi != ABI_VERSION {
            return Err(LoadError::AbiMismatch {
                path: path_buf,
                plugin: plugin_abi,
                host: ABI_VERSION,
                sdk: SDK_VERSION.into(),
            });
        }
        let entry = unsafe { lib.get::<extern "C" fn() -> *const PluginVTable>(VTABLE_SYMBOL) }
            .map_err(|_| LoadError::NotAConnector {
                path: path_buf.clone(),
                symbol: "renkei_connector_vtable".into(),
            })?;
        let ptr = entry();
        if ptr.is_null() {
            return Err(LoadError::NotAConnector {
                path: path_buf,
                symbol: "renkei_connector_vtable (returned null)".into(),
            });
        }
        // SAFETY: the ABI version matched, so the table has this layout and lives as long as the library.
        let vtable: &'static PluginVTable = unsafe { &*ptr };
        let sdk_version = if vtable.sdk_version_ptr.is_null() {
            String::new()
        } else {
            // SAFETY: the ABI promises `len` bytes of `'static` UTF-8 at `ptr`.
            unsafe {
                let bytes =
                    std::slice::from_raw_parts(vtable.sdk_version_ptr, vtable.sdk_version_len);
                String::from_utf8_lossy(bytes).into_owned()
            }
        };
        if !sdk_compatible(&sdk_version, SDK_VERSION) {
            return Err(LoadError::SdkMismatch {
                path: path_buf,
                plugin: sdk_version,
                host: SDK_VERSION.into(),
            });
        }
        let mut plugin = LoadedPlugin {
            path: path_buf.clone(),
            sdk_version,
            manifest: placeholder_manifest(),
            vtable,
        };
        plugin.manifest = match plugin.call(WireConnection::default(), Call::Manifest) {
            Ok(Reply::Manifest(m)) => m,
            Ok(other) => {
                return Err(LoadError::BadManifest {
                    path: path_buf,
                    reason: format!("expected a manifest, got {other:?}"),
                })
            }
            Err(e) => {
                return Err(LoadError::BadManifest {
                    path: path_buf,
                    reason: e.to_string(),
                })
            }
        };
        if plugin.manifest.id.is_empty() {
            return Err(LoadError::BadManifest {
                path: plugin.path,
                reason: "empty connector id".into(),
            });
        }
        Ok(plugin)
    }

    /// One call through the C boundary.
    pub fn call(&self, connection: WireConnection, call: Call) -> Result<Reply, ConnectorError> {
        let req = CallRequest { connection, call };
        let bytes = serde_json::to_vec(&req).map_err(|e| {
            ConnectorError::new(ErrorKind::Internal, format!("cannot encode request: {e}"))
        })?;
        self.call_raw(&bytes)
    }

    /// One call with an already-encoded `CallRequest`.
    pub fn call_raw(&self, request: &[u8]) -> Result<Reply, ConnectorError> {
        // SAFETY: the vtable was validated at load; the buffer is returned to the plugin's own `free`.
        unsafe {
            let buf = (self.vtable.call)(request.as_ptr(), request.len());
            let out = if buf.ptr.is_null() {
                Vec::new()
            } else {
                std::slice::from_raw_parts(buf.ptr, buf.len).to_vec()
            };
            (self.vtable.free)(buf);
            decode_outcome(&out)
        }
    }
}

/// A loaded plugin is itself a [`Connector`]: every call goes through the C boundary, so the
/// conformance kit can test the built library exactly as the hub's worker will call it.
impl Connector for LoadedPlugin {
    fn manifest(&self) -> Manifest {
        self.manifest.clone()
    }

    fn check(&self, conn: &Connection) -> Result<CheckResult, ConnectorError> {
        match self.call(conn.into(), Call::Check)? {
            Reply::Check(c) => Ok(c),
            other => Err(unexpected("check", &other)),
        }
    }

    fn objects(&self, conn: &Connection) -> Result<Vec<ObjectSchema>, ConnectorError> {
        match self.call(conn.into(), Call::Objects)? {
            Reply::Objects(o) => Ok(o),
            other => Err(unexpected("objects", &other)),
        }
    }

    fn read(&self, conn: &Connection, req: &ReadRequest) -> Result<ReadPage, ConnectorError> {
        match self.call(conn.into(), Call::Read(req.clone()))? {
            Reply::Read(p) => Ok(p),
            other => Err(unexpected("read", &other)),
        }
    }

    fn write(
        &self,
        conn: &Connection,
        req: &WriteRequest,
    ) -> Result<Vec<WriteResult>, ConnectorError> {
        match self.call(conn.into(), Call::Write(req.clone()))? {
            Reply::Write(r) => Ok(r),
            other => Err(unexpected("write", &other)),
        }
    }

    fn action(
        &self,
        conn: &Connection,
        action: &str,
        input: &serde_json::Value,
    ) -> Result<serde_json::Value, ConnectorError> {
        let call = Call::Action {
            name: action.to_string(),
            input: input.clone(),
        };
        match self.call(conn.into(), call)? {
            Reply::Action(v) => Ok(v),
            other => Err(unexpected("action", &other)),
        }
    }
}

fn unexpected(method: &str, reply: &Reply) -> ConnectorError {
    let got = serde_json::to_value(reply)
        .ok()
        .and_then(|v| v.get("reply").and_then(|r| r.as_str()).map(str::to_string))
        .unwrap_or_default();
    ConnectorError::new(
        ErrorKind::Internal,
        format!("the plugin answered a {method} call with a {got} reply"),
    )
}

fn placeholder_manifest() -> Manifest {
    Manifest {
        id: String::new(),
        version: String::new(),
        name: Default::default(),
        description: Default::default(),
        auth: crate::manifest::AuthSpec::None,
        settings: vec![],
        credentials: vec![],
        credentials_one_of: Vec::new(),
        registration_number_pattern: None,
        limits: Default::default(),
        actions: vec![],
        sandbox: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::sdk_compatible;

    #[test]
    fn sdk_versions_match_on_major_minor() {
        assert!(sdk_compatible("0.1.3", "0.1.0"));
        assert!(!sdk_compatible("0.2.0", "0.1.0"));
        assert!(!sdk_compatible("1.1.0", "0.1.0"));
    }
}
