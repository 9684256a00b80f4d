//! Misbehaviour on request, for the hub's boundary tests: the connection setting `misbehave`
//! makes `read` panic, abort, segfault, hang, eat memory or print garbage to stdout.

use connector_sdk::{Connection, ConnectorError, ErrorKind};

/// Most memory the `oom` mode takes before giving up (the test sets a far smaller limit).
const OOM_CAP: usize = 8 << 30;

/// Does what `misbehave` says; returns normally only for `print` and when it is not set.
pub fn on_read(conn: &Connection) -> Result<(), ConnectorError> {
    let Some(mode) = conn.setting("misbehave") else {
        return Ok(());
    };
    match mode.as_str() {
        "panic" => panic!("told to panic while reading"),
        "abort" => std::process::abort(),
        // A real invalid write, not `raise(SIGSEGV)`: Rust's runtime handles a raised SIGSEGV
        // (its stack-overflow handler) and returns, while a faulting write faults again.
        // SAFETY: none; undefined behaviour is the point of this mode.
        "segfault" => unsafe {
            std::ptr::write_volatile(std::ptr::dangling_mut::<u64>(), 1);
            Ok(())
        },
        "hang" => loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        },
        "oom" => {
            // Touch every page so the memory is really taken, chunk by chunk, until the
            // allocator fails (and aborts) under the worker's address-space limit.
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            let chunk = 64 << 20;
            while hoard.len() * chunk < OOM_CAP {
                hoard.push(vec![1u8; chunk]);
            }
            Err(ConnectorError::new(
                ErrorKind::Internal,
                format!("took {} MiB without hitting a limit", hoard.len() * 64),
            ))
        }
        "print" => {
            // What a careless connector might leave in: debug output, even bytes that look
            // like a frame header.
            println!("debug: reading now");
            println!("\u{4}\0\0\0{{\"ok\":\"not a reply\"}}");
            print!("no newline at the end");
            Ok(())
        }
        other => Err(ConnectorError::new(
            ErrorKind::InvalidSettings,
            format!("unknown misbehave mode '{other}'"),
        )),
    }
}
