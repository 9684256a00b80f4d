//! Why a run stopped, typed from the side to the run record: whether trying again later may
//! help is a property of the error ([`EngineError::may_pass`]), decided where it is made.

use connector_sdk::ConnectorError;

use crate::model::SideId;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The connector refused or failed a whole call (after the hub's own retries).
    #[error("{side}: {} ({})", .error.message, .error.code)]
    Connector {
        side: SideId,
        error: Box<ConnectorError>,
    },
    /// The run ledger (the hub's store) failed: worth another attempt.
    #[error("the run ledger failed: {0} (nothing after the last commit was saved; the run may be tried again)")]
    Ledger(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The caller's page hook failed (its own store, a flow it reads through); whether it may
    /// pass is the hook's to say.
    #[error("{message}")]
    Hook { message: String, may_pass: bool },
}

impl EngineError {
    pub fn connector(side: SideId, error: ConnectorError) -> Self {
        EngineError::Connector {
            side,
            error: Box::new(error),
        }
    }

    /// Trying the run again later, unchanged, may succeed (a rate limit, a network error, a
    /// 5xx, a time-out, the store).
    pub fn may_pass(&self) -> bool {
        match self {
            EngineError::Connector { error, .. } => {
                error.is_retryable() || error.code == "timed_out"
            }
            EngineError::Ledger(_) => true,
            EngineError::Hook { may_pass, .. } => *may_pass,
        }
    }
}
