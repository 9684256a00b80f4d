//! Flows (連携サービス): validated on save (connections exist, schedule parses, the mapping fits
//! both objects' schemas, lookups name existing flows), scheduled from the database, and run on
//! request ("今すぐ実行") by queueing a run.
//!
//! The schema check lists both connections' objects through the worker. A connection whose
//! objects cannot be listed (unreachable, signed out) refuses the save with 422
//! `connection_unreachable`: a mapping nobody could check is not saved. An update that changes
//! none of what the check looks at (e.g. only the schedule, or disabling the flow) skips it, so
//! a flow can be paused while its system is down.

use connector_sdk::ObjectSchema;
use hub_domain::{Endpoint, Flow, FlowSpec, Millis, Trigger};
use std::collections::HashMap;

use crate::engine::transforms::{parse, Transform};
use crate::error::{HubError, HubResult};
use crate::schedule::CompiledSchedule;
use crate::validate;
use crate::Hub;
use hub_messages::Message;

impl Hub {
    async fn check_flow(
        &self,
        spec: &FlowSpec,
        saved: Option<&FlowSpec>,
    ) -> HubResult<Option<CompiledSchedule>> {
        validate::text("name", &spec.name, 100)?;
        if let Some(w) = spec.notify.as_ref().and_then(|n| n.webhook.as_ref()) {
            // Empty or "[REDACTED]" keeps the stored URL (checked when it was saved).
            let url = w.url.expose();
            if !url.is_empty() && url != "[REDACTED]" {
                validate::http_url("notify.webhook.url", url, self.egress)?;
            }
        }
        for (side, ep) in [("source", &spec.source), ("target", &spec.target)] {
            validate::text(&format!("{side}.connection"), &ep.connection, 64)?;
            validate::text(&format!("{side}.object"), &ep.object, 200)?;
            if self.store.get_connection(&ep.connection).await.is_err() {
                return Err(HubError::unprocessable(
                    format!("{side}.connection"),
                    Message::new("err.no_connection").with("id", &ep.connection),
                ));
            }
        }
        if spec.source == spec.target {
            return Err(HubError::unprocessable(
                "target",
                Message::new("err.same_object"),
            ));
        }
        for (i, m) in spec.mapping.iter().enumerate() {
            validate::text(&format!("mapping[{i}].to"), &m.to, 200)?;
        }
        crate::engine::mapping::Mapper::new(&spec.mapping)?;
        for (i, k) in spec.match_keys.iter().enumerate() {
            validate::text(&format!("match_keys[{i}].source"), &k.source, 200)?;
            validate::text(&format!("match_keys[{i}].target"), &k.target, 200)?;
        }
        let schedule = spec
            .schedule
            .as_ref()
            .map(CompiledSchedule::parse)
            .transpose()?;
        self.check_lookups(spec).await?;
        if saved.is_none_or(|old| !same_schema_inputs(old, spec)) {
            self.check_schemas(spec).await?;
        }
        Ok(schedule)
    }

    /// Every lookup names a flow that exists, every user mapping a connection.
    async fn check_lookups(&self, spec: &FlowSpec) -> HubResult<()> {
        for (i, m) in spec.mapping.iter().enumerate() {
            let field = format!("mapping[{i}].transform");
            let flow = match parse(&m.transform, &field)? {
                Transform::Lookup { flow, .. } => flow,
                Transform::UserMap { connection } => {
                    match self.store.get_connection(&connection).await {
                        Ok(_) => continue,
                        Err(hub_store::StoreError::NotFound { .. }) => {
                            return Err(HubError::refused(
                                crate::validate::schema::INVALID_MAPPING,
                                field,
                                Message::new("refused.no_user_map_connection")
                                    .with("connection", &connection)
                                    .with("field", &m.from),
                            ))
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                _ => continue,
            };
            match self.store.get_flow(&flow).await {
                Ok(_) => {}
                Err(hub_store::StoreError::NotFound { .. }) => {
                    return Err(HubError::refused(
                        crate::validate::schema::INVALID_MAPPING,
                        field,
                        Message::new("refused.no_lookup_flow")
                            .with("flow", &flow)
                            .with("field", &m.from),
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Both objects' schemas, listed through the worker, against the mapping.
    async fn check_schemas(&self, spec: &FlowSpec) -> HubResult<()> {
        let mut listed: HashMap<&str, std::sync::Arc<Vec<ObjectSchema>>> = HashMap::new();
        let mut found = Vec::with_capacity(2);
        for (side, ep) in [("source", &spec.source), ("target", &spec.target)] {
            if !listed.contains_key(ep.connection.as_str()) {
                let objects = match self.recent_connection_objects(&ep.connection).await {
                    Ok(o) => o,
                    Err(HubError::Connector(e)) => {
                        return Err(self.unreachable(side, &ep.connection, &e).await)
                    }
                    Err(other) => return Err(other),
                };
                listed.insert(&ep.connection, objects);
            }
            let objects = &listed[ep.connection.as_str()];
            let Some(o) = objects.iter().find(|o| o.id == ep.object) else {
                return Err(unknown_object(side, ep, objects));
            };
            found.push(o.clone());
        }
        crate::validate::read_options::check(spec, &found[0], &found[1])?;
        crate::validate::schema::check(spec, &found[0], &found[1])
    }

    async fn unreachable(
        &self,
        side: &str,
        connection: &str,
        e: &connector_sdk::ConnectorError,
    ) -> HubError {
        let name = self
            .store
            .get_connection(connection)
            .await
            .map(|c| c.name)
            .unwrap_or_else(|_| connection.to_string());
        HubError::refused(
            "connection_unreachable",
            format!("{side}.connection"),
            Message::new("refused.connection_unreachable")
                .with_text("side", side_key(side))
                .with("name", name)
                .with_local(
                    "detail",
                    e.message_ja.as_deref().unwrap_or(&e.message),
                    format!("{} {}", e.code, e.message),
                ),
        )
    }

    fn next_fire(
        spec: &FlowSpec,
        schedule: Option<&CompiledSchedule>,
        after: Millis,
    ) -> Option<Millis> {
        if !spec.enabled {
            return None;
        }
        schedule.and_then(|s| s.next_after(after))
    }

    pub async fn create_flow(&self, spec: &FlowSpec) -> HubResult<String> {
        let schedule = self.check_flow(spec, None).await?;
        let next = Self::next_fire(spec, schedule.as_ref(), hub_domain::now_ms());
        Ok(self.store.insert_flow(spec, next).await?)
    }

    pub async fn update_flow(&self, id: &str, spec: &FlowSpec) -> HubResult<Flow> {
        let saved = self.store.get_flow(id).await?;
        let schedule = self.check_flow(spec, Some(&saved.spec)).await?;
        let next = Self::next_fire(spec, schedule.as_ref(), hub_domain::now_ms());
        Ok(self.store.update_flow(id, spec, next).await?)
    }

    /// Deletes a flow with its history; `Conflict already_running` while a run is queued or running.
    pub async fn delete_flow(&self, id: &str) -> HubResult<()> {
        Ok(self.store.delete_flow(id).await?)
    }

    /// 今すぐ実行: queues a run; `Conflict already_running` while one is queued or running.
    pub async fn run_flow_now(&self, id: &str, trigger: Trigger) -> HubResult<String> {
        self.store.get_flow(id).await?;
        Ok(self.store.enqueue_run(id, trigger, None).await?)
    }

    /// The next `n` fire times of a flow's schedule (shown when a schedule is saved).
    pub fn upcoming_fires(spec: &FlowSpec, n: usize) -> HubResult<Vec<String>> {
        let Some(s) = &spec.schedule else {
            return Ok(vec![]);
        };
        let compiled = CompiledSchedule::parse(s)?;
        Ok(compiled
            .upcoming(hub_domain::now_ms(), n)
            .iter()
            .map(|t| t.to_rfc3339())
            .collect())
    }
}

/// Whether the schema check would look at the same things in both specs.
fn same_schema_inputs(a: &FlowSpec, b: &FlowSpec) -> bool {
    a.source == b.source
        && a.target == b.target
        && a.direction == b.direction
        && a.mapping == b.mapping
        && a.match_keys == b.match_keys
        && a.options.create_missing == b.options.create_missing
        && a.filters.source_options == b.filters.source_options
        && a.filters.target_options == b.filters.target_options
}

fn unknown_object(side: &str, ep: &Endpoint, objects: &[ObjectSchema]) -> HubError {
    let known: Vec<&str> = objects.iter().map(|o| o.id.as_str()).collect();
    let known = known.join(", ");
    HubError::refused(
        "unknown_object",
        format!("{side}.object"),
        Message::new("refused.unknown_object")
            .with_text("side", side_key(side))
            .with("object", &ep.object)
            .with("known", known),
    )
}

/// The catalogue's word for a flow's side: 送信元 / 送信先.
fn side_key(side: &str) -> &'static str {
    if side == "source" {
        "side.source"
    } else {
        "side.target"
    }
}

impl Hub {
    /// What a run of the flow would do now (creates, updates, conflicts, ambiguous matches),
    /// without writing anything to either side or moving the flow's cursors and links.
    pub async fn preview_flow(
        &self,
        id: &str,
    ) -> HubResult<(crate::engine::RunReport, crate::engine::Plan)> {
        let flow = self.store.get_flow(id).await?;
        Ok(crate::engine::preview(self, &flow).await)
    }
}

impl Hub {
    /// The records the flow's runs failed on and no run has written since (oldest first).
    pub async fn pending_records(&self, id: &str) -> HubResult<Vec<hub_domain::PendingRecord>> {
        self.store.get_flow(id).await?;
        Ok(self.store.pending_records(id).await?)
    }

    /// 対応不要にする: a person decided these pending records (all, when `records` is `None`)
    /// need nothing more; the next runs stop trying them and may end in success.
    pub async fn dismiss_pending(&self, id: &str, records: Option<&[String]>) -> HubResult<u64> {
        self.store.get_flow(id).await?;
        let n = self.store.dismiss_pending(id, records).await?;
        tracing::info!(flow = %id, dismissed = n, "pending records dismissed");
        Ok(n)
    }
}
