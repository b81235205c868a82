//! A tiny SMTP receiver for tests: accepts every message on 127.0.0.1 and keeps its envelope
//! and text, so a test can assert what the service mailed.
use base64::Engine;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message received.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Mail {
    /// The `Subject` header, with RFC 2047 encoded words decoded.
    pub fn subject(&self) -> String {
        let mut lines = self.data.split("\r\n");
        let mut raw = String::new();
        while let Some(line) = lines.next() {
            if let Some(rest) = line.strip_prefix("Subject: ") {
                raw.push_str(rest);
                // Folded continuation lines start with white space.
                for more in lines.by_ref() {
                    if more.starts_with(' ') || more.starts_with('\t') {
                        raw.push_str(more);
                    } else {
                        break;
                    }
                }
                break;
            }
        }
        decode_words(&raw)
    }
}

fn decode_words(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw.trim();
    while !rest.is_empty() {
        match rest.find("=?") {
            Some(start) => {
                let before = &rest[..start];
                if !before.trim().is_empty() {
                    out.push_str(before);
                }
                let word = &rest[start + 2..];
                let parts: Vec<&str> = word.splitn(3, '?').collect();
                let (encoding, tail) = (parts[1], parts[2]);
                let end = tail.find("?=").expect("end of an encoded word");
                let text = &tail[..end];
                let bytes = if encoding.eq_ignore_ascii_case("b") {
                    base64::engine::general_purpose::STANDARD.decode(text).expect("base64 word")
                } else {
                    quoted(text)
                };
                out.push_str(&String::from_utf8(bytes).expect("utf-8 word"));
                rest = &tail[end + 2..];
            }
            None => {
                out.push_str(rest);
                break;
            }
        }
    }
    out
}

fn quoted(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b' '),
            b'=' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).expect("hex"));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    pub port: u16,
    pub mails: Arc<Mutex<Vec<Mail>>>,
}

impl Receiver {
    /// `smtp://127.0.0.1:PORT` (plain SMTP, as to a local relay).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far.
    pub fn received(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits (at most 15 s) until a message to `to` arrives.
    pub async fn wait_for(&self, to: &str) -> Mail {
        for _ in 0..300 {
            if let Some(mail) = self.received().into_iter().find(|m| m.to.iter().any(|t| t == to)) {
                return mail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no mail to {to}; received {:?}", self.received());
    }
}

fn address(arg: &str) -> String {
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg.rfind('>').unwrap_or(arg.len());
    arg[start..end].to_string()
}

/// Starts a receiver on a free port.
pub async fn start() -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let store = mails.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read);
                let _ = write.write_all(b"220 localhost ESMTP test\r\n").await;
                let (mut from, mut to) = (String::new(), Vec::new());
                let mut line = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let command = line.trim_end().to_string();
                    let upper = command.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-localhost\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        from = address(&command[10..]);
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        to.push(address(&command[8..]));
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        let _ = write.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        loop {
                            line.clear();
                            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" || line == ".\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        store.lock().unwrap().push(Mail {
                            from: std::mem::take(&mut from),
                            to: std::mem::take(&mut to),
                            data,
                        });
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Receiver { port, mails }
}
