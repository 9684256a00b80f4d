//! The hub ⇄ worker pipe: frames of a little-endian `u32` length followed by that many bytes
//! of JSON, in both directions. The worker's first frame is a [`Hello`]; after it, each
//! `CallRequest` frame from the hub is answered by exactly one `CallOutcome` frame.

use connector_sdk::Manifest;
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};
use std::process::ExitStatus;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Larger frames are refused rather than allocated: a corrupt length must not exhaust memory.
/// Pages are bounded by the manifest, so a real message stays far below this.
pub const MAX_FRAME: usize = 256 * 1024 * 1024;

/// What a worker says after loading its plugin (first frame), and what `hub worker --probe`
/// prints as its one line (`{"ok":{…}}` or `{"err":"…"}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hello {
    Ok(HelloOk),
    Err(String),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HelloOk {
    pub id: String,
    pub version: String,
    pub sdk_version: String,
    /// Sent by the probe only; a session's worker already knows it from discovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Box<Manifest>>,
}

fn too_large(len: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("frame of {len} bytes is larger than the limit of {MAX_FRAME} bytes"),
    )
}

/// Bytes at the start of a request or answer frame: the call's number (little endian), which
/// its answer carries back, so that a worker can answer calls in any order.
pub const TAG_LEN: usize = 8;

/// `body` with the call's number in front.
pub fn tagged(id: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(TAG_LEN + body.len());
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// The call's number and the body of a tagged frame; `None` when it is too short.
pub fn untag(mut frame: Vec<u8>) -> Option<(u64, Vec<u8>)> {
    let tag: [u8; TAG_LEN] = frame.get(..TAG_LEN)?.try_into().ok()?;
    frame.drain(..TAG_LEN);
    Some((u64::from_le_bytes(tag), frame))
}

/// Reads one frame; `Ok(None)` on a clean end of stream before a frame starts.
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(too_large(len));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok(Some(body))
}

pub fn write_frame(w: &mut impl Write, body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len())
        .ok()
        .filter(|&l| l as usize <= MAX_FRAME)
        .ok_or_else(|| too_large(body.len()))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(body)?;
    w.flush()
}

/// Async [`read_frame`]; `Ok(None)` on a clean end of stream.
pub async fn read_frame_async(r: &mut (impl AsyncRead + Unpin)) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(too_large(len));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    Ok(Some(body))
}

pub async fn write_frame_async(w: &mut (impl AsyncWrite + Unpin), body: &[u8]) -> io::Result<()> {
    let len = u32::try_from(body.len())
        .ok()
        .filter(|&l| l as usize <= MAX_FRAME)
        .ok_or_else(|| too_large(body.len()))?;
    w.write_all(&len.to_le_bytes()).await?;
    w.write_all(body).await?;
    w.flush().await
}

/// "signal 11 (SIGSEGV)" or "exited with code 3": how a worker ended, for messages.
pub fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return match signal_name(sig) {
                Some(name) => format!("signal {sig} ({name})"),
                None => format!("signal {sig}"),
            };
        }
    }
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => "ended without an exit code".to_string(),
    }
}

/// The same in Japanese, for `message_ja`.
pub fn describe_exit_ja(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return match signal_name(sig) {
                Some(name) => format!("シグナル {sig} ({name})"),
                None => format!("シグナル {sig}"),
            };
        }
    }
    match status.code() {
        Some(code) => format!("終了コード {code}"),
        None => "終了コードなし".to_string(),
    }
}

#[cfg(unix)]
fn signal_name(sig: i32) -> Option<&'static str> {
    Some(match sig {
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGXCPU => "SIGXCPU",
        _ => return None,
    })
}

/// A duration as people read it in a message: "1 s", "2.5 s", "300 ms".
pub fn human_duration(d: std::time::Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{} ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_eof_is_clean() {
        let mut buf = Vec::new();
        write_frame(&mut buf, b"{\"a\":1}").unwrap();
        write_frame(&mut buf, b"").unwrap();
        assert_eq!(&buf[..4], &7u32.to_le_bytes());
        let mut r = io::Cursor::new(buf);
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), b"{\"a\":1}");
        assert_eq!(read_frame(&mut r).unwrap().unwrap(), b"");
        assert!(read_frame(&mut r).unwrap().is_none());
    }

    #[test]
    fn truncated_and_oversized_frames_are_errors() {
        let mut buf = 10u32.to_le_bytes().to_vec();
        buf.extend_from_slice(b"abc");
        let e = read_frame(&mut io::Cursor::new(buf)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        let huge = (MAX_FRAME as u32 + 1).to_le_bytes().to_vec();
        let e = read_frame(&mut io::Cursor::new(huge)).unwrap_err();
        assert!(e.to_string().contains("larger than the limit"), "{e}");
    }

    #[tokio::test]
    async fn async_frames_match_sync_frames() {
        let mut buf = Vec::new();
        write_frame_async(&mut buf, "日本語".as_bytes())
            .await
            .unwrap();
        let mut sync_buf = Vec::new();
        write_frame(&mut sync_buf, "日本語".as_bytes()).unwrap();
        assert_eq!(buf, sync_buf);
        let mut r = &buf[..];
        assert_eq!(
            read_frame_async(&mut r).await.unwrap().unwrap(),
            "日本語".as_bytes()
        );
        assert!(read_frame_async(&mut r).await.unwrap().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn exit_descriptions_name_the_signal_or_code() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            describe_exit(ExitStatus::from_raw(11)),
            "signal 11 (SIGSEGV)"
        );
        assert_eq!(describe_exit(ExitStatus::from_raw(6)), "signal 6 (SIGABRT)");
        assert_eq!(
            describe_exit(ExitStatus::from_raw(3 << 8)),
            "exited with code 3"
        );
        assert_eq!(
            describe_exit_ja(ExitStatus::from_raw(11)),
            "シグナル 11 (SIGSEGV)"
        );
    }

    #[test]
    fn durations_read_naturally() {
        use std::time::Duration;
        assert_eq!(human_duration(Duration::from_secs(1)), "1 s");
        assert_eq!(human_duration(Duration::from_millis(2500)), "2.5 s");
        assert_eq!(human_duration(Duration::from_millis(300)), "300 ms");
    }
}
