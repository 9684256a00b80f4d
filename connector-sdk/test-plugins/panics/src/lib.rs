//! A connector whose manifest panics: the SDK turns the panic into an error reply, and the hub
//! refuses the plugin with the panic text.

use connector_sdk::*;

pub struct Panics;

impl Connector for Panics {
    fn manifest(&self) -> Manifest {
        panic!("manifest exploded on purpose")
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

export_connector!(Panics);
