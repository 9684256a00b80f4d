//! All-or-nothing writes (reference §3, §5): every change goes through a `Tx` that keeps an undo
//! log, so a failing record in a batch, or a failing entry of a bulkRequest, rolls back all of
//! it without copying the app's records.

use super::model::{App, Record, Store};

enum Undo {
    /// Put back `old` (or remove the record when there was none) and restore `next_id`.
    Put {
        app: u64,
        id: u64,
        old: Option<Record>,
        next_id: u64,
    },
    Removed {
        app: u64,
        old: Record,
    },
}

pub struct Tx<'a> {
    store: &'a mut Store,
    undo: Vec<Undo>,
}

impl<'a> Tx<'a> {
    pub fn new(store: &'a mut Store) -> Self {
        Tx {
            store,
            undo: Vec::new(),
        }
    }

    pub fn store(&self) -> &Store {
        self.store
    }

    pub fn app(&self, id: u64) -> Option<&App> {
        self.store.apps.get(&id)
    }

    /// Reserves the next record id of an app.
    pub fn next_id(&mut self, app: u64) -> Option<u64> {
        let a = self.store.apps.get(&app)?;
        Some(a.next_id)
    }

    pub fn put(&mut self, app: u64, r: Record) {
        if let Some(a) = self.store.apps.get_mut(&app) {
            let next_id = a.next_id;
            let id = r.id;
            let old = a.put(r);
            self.undo.push(Undo::Put {
                app,
                id,
                old,
                next_id,
            });
        }
    }

    pub fn remove(&mut self, app: u64, id: u64) {
        if let Some(a) = self.store.apps.get_mut(&app) {
            if let Some(old) = a.remove(id) {
                self.undo.push(Undo::Removed { app, old });
            }
        }
    }

    /// Whether anything changed (worth saving).
    pub fn changed(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn rollback(mut self) {
        while let Some(u) = self.undo.pop() {
            match u {
                Undo::Put {
                    app,
                    id,
                    old,
                    next_id,
                } => {
                    if let Some(a) = self.store.apps.get_mut(&app) {
                        match old {
                            Some(o) => {
                                a.put(o);
                            }
                            None => {
                                a.remove(id);
                            }
                        }
                        a.next_id = next_id;
                    }
                }
                Undo::Removed { app, old } => {
                    if let Some(a) = self.store.apps.get_mut(&app) {
                        let next_id = a.next_id;
                        a.put(old);
                        a.next_id = next_id;
                    }
                }
            }
        }
    }
}
