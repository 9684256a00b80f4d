//! A plugin connection as one side of the engine ([`hub_engine::RecordSide`]): reads and
//! writes through [`ConnectorClient`] (retries, limits, refresh), the flow's mapping as the
//! side's [`Shape`] (side A, the source, is seen through it; side B, the target, is the
//! shared space), and matching by the flow's normalized keys over an index of the whole
//! object, read once and only when an unlinked record needs it.

use connector_sdk::protocol::{Call, Reply};
use connector_sdk::{
    Fields, MatchKey, ReadPage, ReadRequest, Record, WriteOp, WriteRequest, WriteResult,
};
use hub_domain::{BlankKeyParts, MatchKeySpec, RunWarning};
use hub_engine::{BatchOutcomes, EngineError, Match, RecordSide, Shape, SideId};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use super::client::ConnectorClient;
use super::mapping::Mapper;
use super::matching::{key_of, native_match, Match as Found, Side, TargetIndex};
use super::naming::SideNames;
use super::RunCtx;
use serde_json::Value;

/// What a side reads and how it matches.
pub(super) struct Reading<'a> {
    pub object: &'a str,
    pub fields: Option<Vec<String>>,
    pub options: &'a BTreeMap<String, String>,
    /// The first run's window (only while the side has no cursor).
    pub since: Option<String>,
    pub keys: &'a [MatchKeySpec],
    pub blank: BlankKeyParts,
    /// Keep the index's records as images (a recorded run, for undo).
    pub images: bool,
    /// Ask the next read how many records there are to read (live progress).
    pub count: bool,
}

pub(super) struct PluginSide<'a> {
    pub id: SideId,
    pub client: ConnectorClient,
    /// More clients of the connection, opened when batches are written at once.
    siblings: Vec<ConnectorClient>,
    pub reading: Reading<'a>,
    pub fwd: &'a Mapper,
    pub rev: &'a Mapper,
    pub ctx: &'a RunCtx,
    /// The connector's warnings on the records this side read (the engine knows none).
    pub warnings: Vec<RunWarning>,
    /// How this side's records are named (titles read, refused values).
    pub names: SideNames,
    index: Option<TargetIndex>,
}

impl<'a> PluginSide<'a> {
    pub fn new(
        id: SideId,
        client: ConnectorClient,
        reading: Reading<'a>,
        (fwd, rev): (&'a Mapper, &'a Mapper),
        ctx: &'a RunCtx,
    ) -> Self {
        PluginSide {
            id,
            client,
            siblings: Vec::new(),
            reading,
            fwd,
            rev,
            ctx,
            warnings: Vec::new(),
            names: SideNames::default(),
            index: None,
        }
    }

    fn role(&self) -> Side {
        match self.id {
            SideId::A => Side::Source,
            SideId::B => Side::Target,
        }
    }

    /// The mapping whose `project` gives this side's own mapped fields.
    fn own(&self) -> &'a Mapper {
        match self.id {
            SideId::A => self.rev,
            SideId::B => self.fwd,
        }
    }

    async fn read(&mut self, req: ReadRequest) -> Result<ReadPage, EngineError> {
        read_call(&mut self.client, self.id, req).await
    }

    /// The read of the page at `cursor` (`None`: the first of the window).
    fn read_request(&mut self, cursor: Option<String>) -> ReadRequest {
        ReadRequest {
            object: self.reading.object.to_string(),
            since: cursor
                .is_none()
                .then(|| self.reading.since.clone())
                .flatten(),
            cursor,
            page_size: Some(self.client.limits.read_page_size),
            fields: self.reading.fields.clone(),
            options: self.reading.options.clone(),
            count: std::mem::take(&mut self.reading.count),
            ..ReadRequest::default()
        }
    }

    /// A page read: the run's own records only, its warnings and names kept.
    fn received(&mut self, mut page: ReadPage) -> ReadPage {
        page.issues.retain(|i| self.ctx.admits(&i.record));
        page.warnings.retain(|w| self.ctx.admits(&w.record));
        let warned = std::mem::take(&mut page.warnings);
        self.warnings
            .extend(super::read_warnings(self.id.name(), &warned));
        self.names.note(&page.records);
        page
    }

    /// The side's client and up to `jobs - 1` siblings (opened on first need), no more than
    /// the connection takes calls at once.
    async fn lanes(&mut self, jobs: usize) -> Vec<&mut ConnectorClient> {
        let lanes = self.client.calls_at_once().min(jobs).max(1);
        while self.siblings.len() + 1 < lanes {
            match self.client.sibling().await {
                Ok(c) => self.siblings.push(c),
                // The calls say why (through the first client): fewer lanes meanwhile.
                Err(_) => break,
            }
        }
        std::iter::once(&mut self.client)
            .chain(self.siblings.iter_mut())
            .take(lanes)
            .collect()
    }

    /// Reads the whole object once into an index by key (and images, when kept).
    async fn load_index(&mut self) -> Result<TargetIndex, EngineError> {
        let (keys, blank, role) = (self.reading.keys, self.reading.blank, self.role());
        let keep = self.reading.images.then(|| self.own());
        let mut fields: Vec<String> = keep.map(Mapper::targets).unwrap_or_default();
        for k in keys {
            let f = match role {
                Side::Source => &k.source,
                Side::Target => &k.target,
            };
            if !fields.contains(f) {
                fields.push(f.clone());
            }
        }
        let mut index = TargetIndex::default();
        let mut cursor = None;
        loop {
            let req = ReadRequest {
                object: self.reading.object.to_string(),
                cursor: cursor.clone(),
                page_size: Some(self.client.limits.read_page_size),
                fields: (!fields.is_empty()).then(|| fields.clone()),
                ..Default::default()
            };
            let page = self.read(req).await?;
            for r in &page.records {
                index.add_record(keys, blank, role, r);
                if let Some(m) = keep.filter(|_| !r.deleted) {
                    index.add_image(&r.id, &m.project(&r.fields));
                }
            }
            if !page.has_more || page.next_cursor.is_none() {
                return Ok(index);
            }
            cursor = page.next_cursor;
        }
    }
}

/// A side's shape: the flow's mapping seen from that side.
#[derive(Clone, Copy)]
pub(super) struct SideShape<'a> {
    id: SideId,
    fwd: &'a Mapper,
    rev: &'a Mapper,
}

impl Shape for SideShape<'_> {
    fn common(&self, rec: &Record) -> Fields {
        match self.id {
            SideId::A => self.fwd.map(rec),
            SideId::B => self.fwd.project(&rec.fields),
        }
    }

    fn own_fields(&self, common: &Fields) -> Fields {
        match self.id {
            SideId::A => self.rev.map_fields(common),
            SideId::B => common.clone(),
        }
    }

    fn read_back(&self, common: &Fields) -> Fields {
        match self.id {
            SideId::A => self.fwd.map_fields(&self.rev.map_fields(common)),
            SideId::B => self.fwd.project(common),
        }
    }

    fn image(&self, rec: &Record) -> Fields {
        let own = match self.id {
            SideId::A => self.rev,
            SideId::B => self.fwd,
        };
        own.project(&rec.fields)
    }
}

impl Shape for PluginSide<'_> {
    fn common(&self, rec: &Record) -> Fields {
        self.shape().common(rec)
    }

    fn own_fields(&self, common: &Fields) -> Fields {
        self.shape().own_fields(common)
    }

    fn read_back(&self, common: &Fields) -> Fields {
        self.shape().read_back(common)
    }

    fn image(&self, rec: &Record) -> Fields {
        self.shape().image(rec)
    }
}

/// A call a lane sends through one of the side's clients.
trait Job: Send {
    type Answer: Send;
    fn send(
        self,
        client: &mut ConnectorClient,
        side: SideId,
    ) -> impl Future<Output = Self::Answer> + Send;
}

impl Job for ReadRequest {
    type Answer = Result<ReadPage, EngineError>;
    async fn send(self, client: &mut ConnectorClient, side: SideId) -> Self::Answer {
        read_call(client, side, self).await
    }
}

type Answered = (Vec<WriteOp>, Result<Vec<WriteResult>, EngineError>);

impl Job for WriteRequest {
    type Answer = Answered;
    async fn send(self, client: &mut ConnectorClient, side: SideId) -> Answered {
        write_call(client, side, self).await
    }
}

/// Sends `jobs` through `clients` (one lane each, taking the next job until none is left):
/// one answer per job, in order.
async fn in_lanes<J: Job>(
    clients: Vec<&mut ConnectorClient>,
    side: SideId,
    jobs: Vec<J>,
) -> Vec<J::Answer> {
    let count = jobs.len();
    let queue = Mutex::new(jobs.into_iter().enumerate());
    let done = Mutex::new(Vec::with_capacity(count));
    let lanes = clients.into_iter().map(|client| async {
        loop {
            let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
            let Some((i, job)) = next else { return };
            let answer = job.send(client, side).await;
            done.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((i, answer));
        }
    });
    futures::future::join_all(lanes).await;
    let mut done = done.into_inner().unwrap_or_else(PoisonError::into_inner);
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, a)| a).collect()
}

/// One read call through `client`.
async fn read_call(
    client: &mut ConnectorClient,
    side: SideId,
    req: ReadRequest,
) -> Result<ReadPage, EngineError> {
    match client.call(Call::Read(req)).await {
        Ok(Reply::Read(p)) => Ok(p),
        Ok(other) => Err(EngineError::connector(
            side,
            crate::connections::unexpected("read", &other),
        )),
        Err(error) => Err(EngineError::connector(side, error)),
    }
}

/// One write call through `client`; the ops sent come back with the outcome.
async fn write_call(client: &mut ConnectorClient, side: SideId, req: WriteRequest) -> Answered {
    let outcome = match client.call(Call::Write(req.clone())).await {
        Ok(Reply::Write(r)) => Ok(r),
        Ok(other) => Err(EngineError::connector(
            side,
            crate::connections::unexpected("write", &other),
        )),
        Err(error) => Err(EngineError::connector(side, error)),
    };
    (req.ops, outcome)
}

impl<'a> RecordSide for PluginSide<'a> {
    type Shaped = SideShape<'a>;

    fn shape(&self) -> SideShape<'a> {
        SideShape {
            id: self.id,
            fwd: self.fwd,
            rev: self.rev,
        }
    }

    async fn read_page(&mut self, cursor: Option<String>) -> Result<ReadPage, EngineError> {
        let req = self.read_request(cursor);
        let page = self.read(req).await?;
        Ok(self.received(page))
    }

    fn read_concurrency(&self) -> usize {
        self.client.calls_at_once()
    }

    async fn read_pages(&mut self, cursors: Vec<String>) -> Vec<Result<ReadPage, EngineError>> {
        let reqs: Vec<ReadRequest> = cursors
            .into_iter()
            .map(|c| self.read_request(Some(c)))
            .collect();
        let side = self.id;
        let clients = self.lanes(reqs.len()).await;
        let pages = in_lanes(clients, side, reqs).await;
        pages
            .into_iter()
            .map(|page| page.map(|p| self.received(p)))
            .collect()
    }

    async fn write_batch(&mut self, ops: Vec<WriteOp>) -> Result<Vec<WriteResult>, EngineError> {
        let req = WriteRequest {
            object: self.reading.object.to_string(),
            ops,
        };
        let (ops, outcome) = write_call(&mut self.client, self.id, req).await;
        if let Ok(r) = &outcome {
            self.names.note_refused(&ops, r);
        }
        outcome
    }

    fn batch_size(&self) -> usize {
        self.client.limits.write_batch_size.max(1) as usize
    }

    fn write_concurrency(&self) -> usize {
        self.client.calls_at_once()
    }

    async fn write_batches(&mut self, batches: Vec<Vec<WriteOp>>) -> BatchOutcomes {
        let side = self.id;
        let reqs: Vec<WriteRequest> = batches
            .into_iter()
            .map(|ops| WriteRequest {
                object: self.reading.object.to_string(),
                ops,
            })
            .collect();
        let clients = self.lanes(reqs.len()).await;
        let answers = in_lanes(clients, side, reqs).await;
        answers
            .into_iter()
            .map(|(ops, outcome)| {
                if let Ok(r) = &outcome {
                    self.names.note_refused(&ops, r);
                }
                outcome
            })
            .collect()
    }

    async fn find_match(&mut self, other: &Record) -> Result<Match, EngineError> {
        if self.reading.keys.is_empty() {
            return Ok(Match::None);
        }
        let theirs = match self.role() {
            Side::Source => Side::Target,
            Side::Target => Side::Source,
        };
        let Some(key) = key_of(self.reading.keys, self.reading.blank, theirs, &other.fields) else {
            return Ok(Match::NoKey);
        };
        self.found(key, Match::None).await
    }

    async fn find_target(&mut self, other: &Record, common: &Fields) -> Result<Match, EngineError> {
        let keys = self.reading.keys;
        if keys.is_empty() {
            return Ok(Match::None);
        }
        if native_match(keys) {
            // The connector matches by itself on write, by the written (or else the read) value.
            let k = &keys[0];
            let v = (common.get(&k.target).cloned())
                .or_else(|| other.fields.get(&k.source).cloned())
                .unwrap_or(Value::Null);
            if v.is_null() || v == Value::String(String::new()) {
                return Ok(Match::None);
            }
            return Ok(Match::OnWrite(MatchKey {
                field: k.target.clone(),
                value: v,
            }));
        }
        let Some(key) = key_of(keys, self.reading.blank, Side::Source, &other.fields) else {
            return Ok(Match::NoKey);
        };
        let free = Match::Free { key: key.clone() };
        self.found(key, free).await
    }
}

impl PluginSide<'_> {
    /// What the index (read on first need) holds under `key`; `none` when nothing.
    async fn found(&mut self, key: String, none: Match) -> Result<Match, EngineError> {
        if self.index.is_none() {
            self.index = Some(self.load_index().await?);
        }
        let Some(index) = &self.index else {
            return Ok(none);
        };
        Ok(match index.find(&key) {
            Found::None => none,
            // A retry leaves a pair whose other record changed outside it to a later run.
            Found::One(id) if self.ctx.leaves(self.id.name(), &id) => Match::Left,
            Found::One(id) => Match::One {
                image: index.image(&id).and_then(|j| serde_json::from_str(&j).ok()),
                id,
            },
            Found::Ambiguous(ids) => Match::Several(ids),
        })
    }
}
