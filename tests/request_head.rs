//! The largest request head: each connection's output buffer holds 64 KiB, and a longer
//! head (here a bearer token of 70,000 characters) is refused with `InvalidArgument`
//! before the server has a whole request, with a message that says why and hides the token.
//! A 40,000-character token still goes out whole. The server is a plain listener on
//! 127.0.0.1 that records every byte it reads.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;

use superoffice::{Client, ErrorKind};

/// A server answering `204` to each request head it reads; `bytes` is all it read.
struct Recorder {
    base: String,
    bytes: Arc<Mutex<Vec<u8>>>,
}

fn recorder() -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}/Cust1", listener.local_addr().unwrap().port());
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&bytes);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let seen = Arc::clone(&seen);
            thread::spawn(move || {
                let mut buf = [0u8; 16384];
                let mut mine = Vec::new();
                loop {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            mine.extend_from_slice(&buf[..n]);
                            seen.lock().unwrap().extend_from_slice(&buf[..n]);
                        }
                    }
                    // The library's body is small JSON with a Content-Length; answer once
                    // the head and the body's closing brace are in.
                    if let Some(end) = find(&mine, b"\r\n\r\n") {
                        if mine[end..].ends_with(b"}") {
                            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
                            mine.clear();
                        }
                    }
                }
            });
        }
    });
    Recorder { base, bytes }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn client_with_token(base: &str, token: &str) -> Client {
    let mut b = support::builder(base, 2000, 5000);
    b.bearer_token(token).unwrap();
    Client::new(&b.build()).unwrap()
}

#[test]
fn a_head_over_64_kib_is_refused_before_the_server_has_a_whole_request() {
    let server = recorder();
    let token = format!("long-bearer-{}", "x".repeat(70_000));
    let client = client_with_token(&server.base, &token);
    let e = support::expect_err(support::send(&client), "a 70,000-character token");
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "{}", e.message);
    assert!(e.message.contains("64 KiB") && e.message.contains("not sent whole"), "{}", e.message);
    support::assert_hidden(&e.message, &[&token[..40]], "the refusal");
    // ureq may have written the head's first headers; never its end, never the body.
    let seen = server.bytes.lock().unwrap();
    assert!(find(&seen, b"\r\n\r\n").is_none(), "the server read a whole head of a refused request");
    assert!(find(&seen, b"PersonId").is_none() && find(&seen, b"long-bearer").is_none(), "the token or the body went out");
}

#[test]
fn a_head_of_40_kb_is_sent_whole() {
    let server = recorder();
    let token = format!("long-bearer-{}", "y".repeat(40_000));
    let client = client_with_token(&server.base, &token);
    support::send(&client).expect("a 40,000-character token fits the head");
    let seen = server.bytes.lock().unwrap();
    // ureq writes header names in lower case.
    let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
    assert!(text.contains(&format!("authorization: bearer {token}\r\n")), "the token did not arrive whole ({} bytes read)", seen.len());
}
