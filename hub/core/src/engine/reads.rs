//! What the hub reads around the engine's sides: the fields a read asks for, a whole object
//! indexed by match key (registering a missing parent matches against it), and the wording of
//! failures both directions share.

use hub_domain::{BlankKeyParts, MatchKeySpec, RunError};

use connector_sdk::ReadRequest;

use super::client::ConnectorClient;
use super::mapping::Mapper;
use super::matching::{Side, TargetIndex};
use super::Fatal;
use hub_messages::Message;

pub(super) fn open_failed(side: &str, e: crate::HubError) -> Fatal {
    match e {
        crate::HubError::Connector(c) => Fatal::connector(side, &c),
        crate::HubError::Store(s) => Fatal::from(format!("{side}: {s}")),
        other => Fatal::final_(format!("{side}: {other}")),
    }
}

/// The fields a read needs: what the mapping reads (or writes, on the target side) and the
/// match keys. `None` (all fields) when the flow names none.
pub(super) fn read_fields(
    mapper: &Mapper,
    keys: &[MatchKeySpec],
    side: Side,
) -> Option<Vec<String>> {
    let mut fields = match side {
        Side::Source => mapper.sources(),
        Side::Target => mapper.targets(),
    };
    for f in key_fields(keys, side).unwrap_or_default() {
        if !fields.contains(&f) {
            fields.push(f);
        }
    }
    (!fields.is_empty()).then_some(fields)
}

fn key_fields(keys: &[MatchKeySpec], side: Side) -> Option<Vec<String>> {
    let fields: Vec<String> = keys
        .iter()
        .map(|k| match side {
            Side::Source => k.source.clone(),
            Side::Target => k.target.clone(),
        })
        .collect();
    (!fields.is_empty()).then_some(fields)
}

pub(super) fn ambiguous(record: &str, detail: &str) -> RunError {
    RunError {
        record: record.to_string(),
        side: "target".into(),
        code: "ambiguous_match".into(),
        message: Message::new("run_error.ambiguous_match")
            .with("detail", detail)
            .to_stored(),
        ..Default::default()
    }
}

/// Reads the whole target object once to match by normalized keys. With `images`, also keeps
/// each record's fields as that mapping writes them (the before-images undo restores).
pub(super) async fn load_index(
    target: &mut ConnectorClient,
    object: &str,
    keys: &[MatchKeySpec],
    blank: BlankKeyParts,
    side: Side,
    images: Option<&Mapper>,
) -> Result<TargetIndex, Fatal> {
    let mut index = TargetIndex::default();
    let mut cursor = None;
    let fields = match images {
        Some(m) => {
            let mut f = m.targets();
            for k in key_fields(keys, side).unwrap_or_default() {
                if !f.contains(&k) {
                    f.push(k);
                }
            }
            (!f.is_empty()).then_some(f)
        }
        None => key_fields(keys, side),
    };
    loop {
        let req = ReadRequest {
            options: Default::default(),
            object: object.to_string(),
            cursor: cursor.clone(),
            since: None,
            page_size: Some(target.limits.read_page_size),
            fields: fields.clone(),
            ..Default::default()
        };
        let page = target.read_page("target", req).await?;
        for r in &page.records {
            index.add_record(keys, blank, side, r);
            if let Some(m) = images.filter(|_| !r.deleted) {
                index.add_image(&r.id, &m.project(&r.fields));
            }
        }
        if !page.has_more || page.next_cursor.is_none() {
            return Ok(index);
        }
        cursor = page.next_cursor;
    }
}
