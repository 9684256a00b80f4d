//! Writes the emulator's data to its file shortly after changes, in the background, so a burst
//! of writes (benchmarks) costs one save instead of one per request.

use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub struct Saver {
    notify: Arc<Notify>,
}

impl Saver {
    /// `snapshot` returns the data to write, or `None` once the emulator is gone.
    pub fn spawn<T, F>(path: PathBuf, snapshot: F) -> Saver
    where
        T: Serialize + Send + 'static,
        F: Fn() -> Option<T> + Send + Sync + 'static,
    {
        let notify = Arc::new(Notify::new());
        let n = notify.clone();
        let save = Arc::new(move || -> bool {
            match snapshot() {
                Some(data) => {
                    if let Err(e) = crate::persist::save(&path, &data) {
                        tracing::warn!(file = %path.display(), error = %e, "sandbox data not saved");
                    }
                    true
                }
                None => false,
            }
        });
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn(async move {
                    loop {
                        n.notified().await;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        let save = save.clone();
                        match tokio::task::spawn_blocking(move || save()).await {
                            Ok(true) => {}
                            _ => break,
                        }
                    }
                });
            }
            Err(_) => tracing::warn!("no async runtime: sandbox data will not be saved"),
        }
        Saver { notify }
    }

    pub fn changed(&self) {
        self.notify.notify_one();
    }
}
