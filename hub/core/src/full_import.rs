//! 全件を取り込む (full import): a one-way flow's next run reads its whole source object once,
//! however its first run was capped or windowed, and then goes on from the newest change as
//! usual. The flow page shows what it will cost first: the records the source holds (kintone
//! `totalCount`) and about how many API requests reading and writing them takes.

use connector_sdk::protocol::{Call, Reply};
use connector_sdk::ReadRequest;
use hub_domain::{Direction, Flow, Trigger};
use serde::Serialize;

use crate::engine::client::ConnectorClient;
use crate::engine::SOURCE_SINCE;
use crate::error::{HubError, HubResult};
use crate::Hub;
use hub_messages::Message;

/// What a full import of a flow will read and about how many calls it takes.
#[derive(Debug, Clone, Serialize)]
pub struct FullImportEstimate {
    /// Records in the source object; `None` when its connector cannot count them.
    pub records: Option<u64>,
    /// Source reads plus target writes (matching may add a read of the target).
    pub requests: Option<u64>,
    pub read_page_size: u32,
    pub write_batch_size: u32,
}

fn one_way(flow: &Flow) -> HubResult<()> {
    if flow.spec.direction == Direction::TwoWay {
        return Err(HubError::refused(
            "not_supported",
            "direction",
            Message::new("refused.full_import_two_way"),
        ));
    }
    Ok(())
}

impl Hub {
    /// Queues a run that reads the whole source (the flow's read position is reset in the same
    /// transaction); `Conflict already_running` while a run is queued or running.
    pub async fn full_import(&self, flow_id: &str, trigger: Trigger) -> HubResult<String> {
        let flow = self.store.get_flow(flow_id).await?;
        one_way(&flow)?;
        Ok(self
            .store
            .enqueue_reread(flow_id, trigger, &["source"], (SOURCE_SINCE, ""))
            .await?)
    }

    /// Counts the source's records (one read of one record) and estimates the calls.
    pub async fn full_import_estimate(&self, flow_id: &str) -> HubResult<FullImportEstimate> {
        let flow = self.store.get_flow(flow_id).await?;
        one_way(&flow)?;
        let spec = &flow.spec;
        let target_limits = self
            .manifest(
                &self
                    .store
                    .get_connection(&spec.target.connection)
                    .await?
                    .connector_id,
            )?
            .limits
            .clone();
        let mut source = ConnectorClient::open(self, &spec.source.connection).await?;
        let req = ReadRequest {
            object: spec.source.object.clone(),
            page_size: Some(1),
            options: spec.filters.source_options.clone(),
            fields: spec
                .match_keys
                .first()
                .map(|k| vec![k.source.clone()])
                .or_else(|| spec.mapping.first().map(|m| vec![m.from.clone()])),
            count: true,
            ..Default::default()
        };
        let page = match source.call(Call::Read(req)).await {
            Ok(Reply::Read(p)) => p,
            Ok(other) => {
                return Err(HubError::Connector(crate::connections::unexpected(
                    "read", &other,
                )))
            }
            Err(e) => return Err(HubError::Connector(e)),
        };
        let read_page_size = source.limits.read_page_size.max(1);
        let write_batch_size = target_limits.write_batch_size.max(1);
        let requests = page.total.map(|n| {
            n.div_ceil(u64::from(read_page_size)).max(1) + n.div_ceil(u64::from(write_batch_size))
        });
        Ok(FullImportEstimate {
            records: page.total,
            requests,
            read_page_size,
            write_batch_size,
        })
    }
}
