//! Writes the store to its file shortly after changes, in the background, so a burst of writes
//! (benchmarks) costs one save instead of one per request.

use super::model::Store;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub struct Saver {
    notify: Arc<Notify>,
}

impl Saver {
    /// `snapshot` returns the data to write, or `None` once the emulator is gone.
    pub fn spawn<F>(path: PathBuf, snapshot: F) -> Saver
    where
        F: Fn() -> Option<Store> + Send + Sync + 'static,
    {
        let notify = Arc::new(Notify::new());
        let n = notify.clone();
        let snapshot = Arc::new(snapshot);
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(async move {
                    loop {
                        n.notified().await;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        let (snap, path) = (snapshot.clone(), path.clone());
                        let saved = tokio::task::spawn_blocking(move || match snap() {
                            Some(store) => {
                                if let Err(e) = crate::persist::save(&path, &store) {
                                    tracing::warn!(file = %path.display(), error = %e, "kintone sandbox data not saved");
                                }
                                true
                            }
                            None => false,
                        })
                        .await;
                        if !matches!(saved, Ok(true)) {
                            break;
                        }
                    }
                });
            }
            Err(_) => tracing::warn!("no async runtime: kintone sandbox data will not be saved"),
        }
        Saver { notify }
    }

    pub fn changed(&self) {
        self.notify.notify_one();
    }
}
