//! The route's errors, and how each becomes a `ConnectorError` the hub acts on.

use connector_sdk::{ConnectorError, ErrorKind};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// A connection setting is wrong: a person must fix it.
    #[error("{en}")]
    Settings {
        field: &'static str,
        ja: String,
        en: String,
    },
    /// An action's input is wrong.
    #[error("{en}")]
    Input {
        field: String,
        ja: String,
        en: String,
    },
    /// The folder could not be read or written (a share that is down, a full disk…).
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        ja: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl CsvError {
    pub fn settings(field: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        CsvError::Settings {
            field,
            ja: ja.into(),
            en: en.into(),
        }
    }

    pub fn input(field: &str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        CsvError::Input {
            field: field.to_string(),
            ja: ja.into(),
            en: en.into(),
        }
    }

    pub fn io(what: &'static str, ja: &'static str, path: &Path, source: std::io::Error) -> Self {
        CsvError::Io {
            what,
            ja,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Adds what was being done to an I/O result.
pub trait IoContext<T> {
    fn ctx(self, what: &'static str, ja: &'static str, path: &Path) -> Result<T, CsvError>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, what: &'static str, ja: &'static str, path: &Path) -> Result<T, CsvError> {
        self.map_err(|e| CsvError::io(what, ja, path, e))
    }
}

impl From<CsvError> for ConnectorError {
    fn from(e: CsvError) -> Self {
        let en = e.to_string();
        match e {
            CsvError::Settings { field, ja, .. } => {
                ConnectorError::new(ErrorKind::InvalidSettings, en)
                    .with_ja(ja)
                    .with_field(field)
            }
            CsvError::Input { field, ja, .. } => ConnectorError::new(ErrorKind::InvalidData, en)
                .with_ja(ja)
                .with_field(field),
            CsvError::Io {
                ja, path, source, ..
            } => {
                let kind = match source.kind() {
                    std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
                    // A share that is briefly away, a file another program holds open.
                    _ => ErrorKind::Transient,
                };
                ConnectorError::new(kind, en)
                    .with_code("csv_folder")
                    .with_ja(format!(
                        "{ja}（{}）: {source}。フォルダの場所と権限を確認してください",
                        path.display()
                    ))
            }
        }
    }
}

pub type CsvResult<T> = Result<T, CsvError>;
