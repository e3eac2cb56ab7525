//! Standalone SuperOffice stub server (see docs/stub-protocol.md).
//!
//! ```text
//! stub_server [--port N] [--port-file FILE]
//! ```
//! Prints `stub listening on http://127.0.0.1:PORT`, writes `http://127.0.0.1:PORT` to
//! FILE (atomically: written beside it, then renamed) and serves until killed.

use superoffice_stub as stub;

use std::io::Write;
use std::process::exit;

fn usage(msg: &str) -> ! {
    eprintln!("stub_server: {msg}");
    eprintln!("usage: stub_server [--port N] [--port-file FILE]");
    exit(2);
}

fn main() {
    let mut port: u16 = 0;
    let mut port_file: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = |what: &str| {
            inline.clone().or_else(|| args.next()).unwrap_or_else(|| usage(&format!("{what} needs a value")))
        };
        match name.as_str() {
            "--port" => {
                let v = value("--port");
                port = v.parse().unwrap_or_else(|_| usage(&format!("bad port {v:?}")));
            }
            "--port-file" => port_file = Some(value("--port-file")),
            "-h" | "--help" => {
                println!("usage: stub_server [--port N] [--port-file FILE]");
                return;
            }
            other => usage(&format!("unknown argument {other:?}")),
        }
    }

    let server = match stub::Stub::start_on(port) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("stub_server: cannot listen on 127.0.0.1:{port}: {e}");
            exit(1);
        }
    };
    let url = server.url();
    println!("stub listening on {url}");
    let _ = std::io::stdout().flush();

    if let Some(path) = port_file {
        let tmp = format!("{path}.tmp{}", std::process::id());
        let written = std::fs::write(&tmp, &url).and_then(|_| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            eprintln!("stub_server: cannot write {path}: {e}");
            exit(1);
        }
    }

    server.serve_forever();
}
