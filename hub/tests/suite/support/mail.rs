//! Local sinks for what the hub sends out: an SMTP server that takes any number of mails (on
//! any number of connections) and an HTTP server that takes any number of requests. Each hands
//! over what it received through a channel.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::{channel, Receiver, Sender};

/// One mail as the sink saw it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The headers as sent (subjects stay MIME-encoded).
    pub headers: String,
    /// The body, its transfer encoding (base64 / quoted-printable) undone.
    pub body: String,
}

/// An SMTP sink on a free port.
pub fn smtp_sink() -> (u16, Receiver<Mail>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (port, smtp_sink_on(l))
}

/// An SMTP sink on this listener (e.g. bound to a port that was down until now).
pub fn smtp_sink_on(l: TcpListener) -> Receiver<Mail> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { break };
            let tx = tx.clone();
            std::thread::spawn(move || smtp_session(s, tx));
        }
    });
    rx
}

fn smtp_session(mut s: std::net::TcpStream, tx: Sender<Mail>) {
    let mut r = BufReader::new(s.try_clone().unwrap());
    if s.write_all(b"220 sink ESMTP\r\n").is_err() {
        return;
    }
    let mut to = Vec::new();
    let mut data = String::new();
    let mut in_data = false;
    loop {
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if in_data {
            if line == ".\r\n" {
                in_data = false;
                let _ = tx.send(parse(std::mem::take(&mut to), &data));
                data.clear();
                let _ = s.write_all(b"250 queued\r\n");
            } else {
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            continue;
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250 sink\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(
                line[8..]
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string(),
            );
            b"250 ok\r\n"
        } else if upper.starts_with("DATA") {
            in_data = true;
            b"354 go on\r\n"
        } else if upper.starts_with("QUIT") {
            let _ = s.write_all(b"221 bye\r\n");
            return;
        } else {
            b"250 ok\r\n"
        };
        if s.write_all(reply).is_err() {
            return;
        }
    }
}

fn parse(to: Vec<String>, data: &str) -> Mail {
    let (headers, body) = data.split_once("\r\n\r\n").unwrap_or((data, ""));
    let lower = headers.to_ascii_lowercase();
    let body = if lower.contains("content-transfer-encoding: base64") {
        String::from_utf8_lossy(&base64(body)).into_owned()
    } else if lower.contains("content-transfer-encoding: quoted-printable") {
        String::from_utf8_lossy(&quoted_printable(body)).into_owned()
    } else {
        body.to_string()
    };
    Mail {
        to,
        headers: headers.to_string(),
        body: body.replace("\r\n", "\n"),
    }
}

fn base64(text: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for v in text.bytes().filter_map(val) {
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn quoted_printable(text: &str) -> Vec<u8> {
    let text = text.replace("=\r\n", "");
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// An HTTP sink on a free port: answers 200 to every request and hands over its body.
pub fn http_sink() -> (u16, Receiver<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { break };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            if r.read_exact(&mut body).is_err() {
                continue;
            }
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            let _ = tx.send(String::from_utf8_lossy(&body).into_owned());
        }
    });
    (port, rx)
}
