//! A connector whose manifest aborts the process (as a C library's assert would): the probe
//! worker dies of SIGABRT, and the hub refuses the plugin with "signal 6" and keeps going.

use connector_sdk::*;

pub struct Aborts;

impl Connector for Aborts {
    fn manifest(&self) -> Manifest {
        std::process::abort()
    }

    fn check(&self, _: &Connection) -> Result<CheckResult, ConnectorError> {
        Err(ConnectorError::new(ErrorKind::Unsupported, "never loaded"))
    }

    fn objects(&self, _: &Connection) -> Result<Vec<ObjectSchema>, ConnectorError> {
        Err(ConnectorError::new(ErrorKind::Unsupported, "never loaded"))
    }

    fn read(&self, _: &Connection, _: &ReadRequest) -> Result<ReadPage, ConnectorError> {
        Err(ConnectorError::new(ErrorKind::Unsupported, "never loaded"))
    }

    fn write(&self, _: &Connection, _: &WriteRequest) -> Result<Vec<WriteResult>, ConnectorError> {
        Err(ConnectorError::new(ErrorKind::Unsupported, "never loaded"))
    }
}

export_connector!(Aborts);
