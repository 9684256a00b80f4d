//! Peak memory of a process and of its children (the `hub worker` processes that run plugin
//! code). A worker lives only as long as a run's plugin session, so a sampler thread reads every
//! descendant's VmHWM (peak resident set) every 100 ms and keeps the highest seen.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// `VmHWM` or `VmRSS` of a process, in MiB (0 when it is gone).
pub fn status_mib(pid: u32, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Resets a process's VmHWM to its current RSS (Linux `clear_refs` 5), so a peak belongs to
/// what follows.
pub fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// Every process whose parent chain leads to `root` (not `root` itself).
fn descendants(root: u32) -> Vec<u32> {
    let mut parent: HashMap<u32, u32> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so cut at ')'.
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
                    if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok())
                    {
                        parent.insert(pid, ppid);
                    }
                }
            }
        }
    }
    parent
        .keys()
        .copied()
        .filter(|&p| {
            let mut cur = p;
            for _ in 0..16 {
                match parent.get(&cur) {
                    Some(&pp) if pp == root => return true,
                    Some(&pp) if pp > 1 => cur = pp,
                    _ => return false,
                }
            }
            false
        })
        .collect()
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Peaks {
    /// The root process's VmHWM.
    pub process_mib: f64,
    /// The largest VmHWM of any one child.
    pub worker_mib: f64,
    /// The largest sum of the children's resident sets at one moment.
    pub workers_sum_mib: f64,
}

pub struct Sampler {
    root: u32,
    stop: Arc<AtomicBool>,
    peaks: Arc<Mutex<Peaks>>,
    thread: Option<JoinHandle<()>>,
}

impl Sampler {
    pub fn start(root: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peaks = Arc::new(Mutex::new(Peaks::default()));
        let (s, p) = (stop.clone(), peaks.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                sample(root, &p);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Sampler {
            root,
            stop,
            peaks,
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) -> Peaks {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        sample(self.root, &self.peaks);
        *self.peaks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn sample(root: u32, peaks: &Mutex<Peaks>) {
    let own = status_mib(root, "VmHWM:");
    let kids = descendants(root);
    let (mut max, mut sum) = (0.0f64, 0.0f64);
    for k in kids {
        max = max.max(status_mib(k, "VmHWM:"));
        sum += status_mib(k, "VmRSS:");
    }
    let mut p = peaks.lock().unwrap_or_else(|e| e.into_inner());
    p.process_mib = p.process_mib.max(own);
    p.worker_mib = p.worker_mib.max(max);
    p.workers_sum_mib = p.workers_sum_mib.max(sum);
}
