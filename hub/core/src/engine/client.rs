//! Calls into one connection's plugin during a run, with what the hub owns: a fresh token before
//! the first call and a single-flight refresh after an auth-expired error, retries with
//! exponential backoff and jitter honouring Retry-After, the manifest's request rate, and a
//! per-connection concurrency limit shared by every run in this process.

use connector_sdk::protocol::{Call, Reply};
use connector_sdk::{
    Connection as PluginConnection, ConnectorError, ErrorKind, Limits, ReadPage, ReadRequest,
    WriteAction, WriteRequest, WriteResult,
};
use rand::Rng;
use std::time::{Duration, Instant};

use super::Fatal;
use crate::error::HubResult;
use crate::plugins::PluginSession;
use crate::Hub;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `attempt + 1`: the server's Retry-After if given, else base·2^n
    /// with ±50% jitter, capped.
    pub fn delay(&self, attempt: u32, retry_after_ms: Option<u64>) -> Duration {
        if let Some(ms) = retry_after_ms {
            return Duration::from_millis(ms).min(self.max_delay * 4);
        }
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        let jitter = rand::thread_rng().gen_range(0.5..1.5);
        exp.mul_f64(jitter).min(self.max_delay)
    }
}

pub struct ConnectorClient {
    hub: Hub,
    pub connection_id: String,
    pub connector_id: String,
    pub limits: Limits,
    conn: PluginConnection,
    session: Option<PluginSession>,
    last_call: Option<Instant>,
    policy: RetryPolicy,
    /// Calls made, for the run log and metrics.
    pub calls: u64,
    /// A call answered: the connection's status is `ok` (recorded once per client).
    worked: bool,
}

impl ConnectorClient {
    /// Refusals of the connection's own (an endpoint refused, a token that cannot be had) are
    /// its status from now on (`error`), as are those of its calls.
    pub async fn open(hub: &Hub, connection_id: &str) -> HubResult<Self> {
        let opened = async {
            hub.ensure_fresh_token(connection_id).await?;
            hub.plugin_connection(connection_id).await
        };
        let (stored, conn) = match opened.await {
            Ok(c) => c,
            Err(crate::HubError::Connector(e)) => {
                if crate::connections::is_connection_level(&e) {
                    hub.connection_failed(connection_id, &e).await;
                }
                return Err(crate::HubError::Connector(e));
            }
            Err(other) => return Err(other),
        };
        let limits = hub.manifest(&stored.connector_id)?.limits.clone();
        Ok(ConnectorClient {
            hub: hub.clone(),
            connection_id: connection_id.to_string(),
            connector_id: stored.connector_id,
            limits,
            conn,
            session: None,
            last_call: None,
            policy: RetryPolicy::default(),
            calls: 0,
            worked: false,
        })
    }

    /// Another client of the same connection sharing this one's plugin session (one worker
    /// process, which serves calls in parallel, and what the plugin keeps in memory): a run
    /// writes through several at once, up to the manifest's `max_concurrency`, which the
    /// per-connection permits still bound across every run.
    pub async fn sibling(&mut self) -> Result<ConnectorClient, ConnectorError> {
        if self.session.is_none() {
            self.session = Some(self.hub.plugins.open(&self.connector_id).await?);
        }
        Ok(ConnectorClient {
            hub: self.hub.clone(),
            connection_id: self.connection_id.clone(),
            connector_id: self.connector_id.clone(),
            limits: self.limits.clone(),
            conn: self.conn.clone(),
            session: self.session.clone(),
            last_call: None,
            policy: self.policy.clone(),
            calls: 0,
            worked: self.worked,
        })
    }

    /// Calls a run may have in flight on this connection: the manifest's concurrency, or one
    /// when the manifest paces requests (the pace is kept per client).
    pub fn calls_at_once(&self) -> usize {
        match self.limits.requests_per_second {
            Some(_) => 1,
            None => self.limits.max_concurrency.max(1) as usize,
        }
    }

    async fn pace(&mut self) {
        if let (Some(rps), Some(last)) = (self.limits.requests_per_second, self.last_call) {
            if rps > 0.0 {
                let gap = Duration::from_secs_f64(1.0 / rps);
                let since = last.elapsed();
                if since < gap {
                    tokio::time::sleep(gap - since).await;
                }
            }
        }
        self.last_call = Some(Instant::now());
    }

    /// One call; its outcome is also the connection's status: `ok` once a call is answered,
    /// `error` when one fails for a reason of the connection's own (`is_connection_level`).
    pub async fn call(&mut self, call: Call) -> Result<Reply, ConnectorError> {
        let result = self.call_inner(call).await;
        match &result {
            Ok(_) if !self.worked => {
                self.worked = true;
                self.hub.connection_worked(&self.connection_id).await;
            }
            Err(e) if crate::connections::is_connection_level(e) => {
                self.worked = false;
                self.hub.connection_failed(&self.connection_id, e).await;
            }
            _ => {}
        }
        result
    }

    async fn call_inner(&mut self, call: Call) -> Result<Reply, ConnectorError> {
        // A write is safe to repeat after a lost answer only if every op finds its record again.
        let repeatable = match &call {
            Call::Write(w) => w.ops.iter().all(|op| {
                op.action != WriteAction::Create && (op.id.is_some() || op.match_key.is_some())
            }),
            _ => true,
        };
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            self.pace().await;
            let permit = self
                .hub
                .connection_permit(&self.connection_id, self.limits.max_concurrency)
                .await;
            if self.session.is_none() {
                self.session = Some(self.hub.plugins.open(&self.connector_id).await?);
            }
            let Some(session) = self.session.as_ref() else {
                continue;
            };
            self.calls += 1;
            self.hub.metrics.api_call(&self.connector_id);
            let result = session.call(&self.conn, call.clone()).await;
            drop(permit);
            let err = match result {
                Ok(reply) => return Ok(reply),
                Err(e) => e,
            };
            if matches!(err.code.as_str(), "crashed" | "timed_out") {
                return Err(err); // the worker is gone; the session starts another on the next call
            }
            if err.kind == ErrorKind::AuthExpired && !refreshed {
                refreshed = true;
                let seen = self.conn.credentials.get("access_token").cloned();
                self.hub
                    .refresh_after_expiry(&self.connection_id, seen.as_ref())
                    .await
                    .map_err(into_connector_error)?;
                let (_, conn) = self
                    .hub
                    .plugin_connection(&self.connection_id)
                    .await
                    .map_err(into_connector_error)?;
                self.conn = conn;
                continue;
            }
            let may_retry = err.kind == ErrorKind::RateLimited
                || (err.kind == ErrorKind::Transient && repeatable);
            if may_retry && attempt + 1 < self.policy.max_attempts {
                let delay = self.policy.delay(attempt, err.retry_after_ms);
                tracing::info!(connection = %self.connection_id, code = %err.code, attempt, delay_ms = delay.as_millis() as u64, "retrying connector call");
                tokio::time::sleep(delay).await;
                attempt += 1;
                continue;
            }
            return Err(err);
        }
    }
}

impl ConnectorClient {
    /// One page of `req`; a wrong reply or a connector error becomes the run's fatal error,
    /// named by `side` (`source` / `target`).
    pub async fn read_page(&mut self, side: &str, req: ReadRequest) -> Result<ReadPage, Fatal> {
        match self.call(Call::Read(req)).await {
            Ok(Reply::Read(p)) => Ok(p),
            Ok(other) => Err(Fatal::final_(format!(
                "{side}: {}",
                crate::connections::unexpected("read", &other)
            ))),
            Err(e) => Err(Fatal::connector(side, &e)),
        }
    }

    /// One batch of writes; one result per op, or the run's fatal error named by `side`.
    pub async fn write_batch(
        &mut self,
        side: &str,
        req: WriteRequest,
    ) -> Result<Vec<WriteResult>, Fatal> {
        match self.call(Call::Write(req)).await {
            Ok(Reply::Write(r)) => Ok(r),
            Ok(other) => Err(Fatal::final_(format!(
                "{side}: {}",
                crate::connections::unexpected("write", &other)
            ))),
            Err(e) => Err(Fatal::connector(side, &e)),
        }
    }
}

pub(crate) fn into_connector_error(e: crate::HubError) -> ConnectorError {
    match e {
        crate::HubError::Connector(c) => c,
        other => ConnectorError::new(ErrorKind::Internal, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(0, Some(2000)), Duration::from_secs(2));
        let d0 = p.delay(0, None);
        let d3 = p.delay(3, None);
        assert!(
            d0 >= Duration::from_millis(250) && d0 <= Duration::from_millis(750),
            "{d0:?}"
        );
        assert!(
            d3 >= Duration::from_millis(2000) && d3 <= Duration::from_millis(6000),
            "{d3:?}"
        );
        assert!(p.delay(20, None) <= p.max_delay);
    }
}
