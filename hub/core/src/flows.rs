//! Flows (連携サービス): validated on save (connections exist, schedule parses), scheduled from
//! the database, and run on request ("今すぐ実行") by queueing a run.

use hub_store::{Flow, FlowSpec, Millis, Trigger};

use crate::error::{HubError, HubResult};
use crate::schedule::CompiledSchedule;
use crate::validate;
use crate::Hub;

impl Hub {
    async fn check_flow(&self, spec: &FlowSpec) -> HubResult<Option<CompiledSchedule>> {
        validate::text("name", &spec.name, 100)?;
        for (side, ep) in [("source", &spec.source), ("target", &spec.target)] {
            validate::text(&format!("{side}.connection"), &ep.connection, 64)?;
            validate::text(&format!("{side}.object"), &ep.object, 200)?;
            if self.store.get_connection(&ep.connection).await.is_err() {
                return Err(HubError::unprocessable(
                    format!("{side}.connection"),
                    format!(
                        "no connection '{}'; GET /api/connections lists them",
                        ep.connection
                    ),
                ));
            }
        }
        if spec.source == spec.target {
            return Err(HubError::unprocessable(
                "target",
                "source and target are the same object",
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
        spec.schedule
            .as_ref()
            .map(CompiledSchedule::parse)
            .transpose()
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
        let schedule = self.check_flow(spec).await?;
        let next = Self::next_fire(spec, schedule.as_ref(), hub_store::now_ms());
        Ok(self.store.insert_flow(spec, next).await?)
    }

    pub async fn update_flow(&self, id: &str, spec: &FlowSpec) -> HubResult<Flow> {
        self.store.get_flow(id).await?;
        let schedule = self.check_flow(spec).await?;
        let next = Self::next_fire(spec, schedule.as_ref(), hub_store::now_ms());
        Ok(self.store.update_flow(id, spec, next).await?)
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
            .upcoming(hub_store::now_ms(), n)
            .iter()
            .map(|t| t.to_rfc3339())
            .collect())
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
