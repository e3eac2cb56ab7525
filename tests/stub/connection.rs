//! Connection handling: accepting a request's head and body off a keep-alive
//! connection, with the framing rules of HTTP/1.1.

use super::*;

pub(super) struct Conn {
    pub(super) stream: TcpStream,
    pub(super) buf: Vec<u8>,
}

impl Conn {
    /// Reads more bytes into `buf`; returns how many (0 = peer closed).
    pub(super) fn fill(&mut self) -> io::Result<usize> {
        let len = self.buf.len();
        self.buf.resize(len + 16 * 1024, 0);
        loop {
            match self.stream.read(&mut self.buf[len..]) {
                Ok(n) => {
                    self.buf.truncate(len + n);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        }
    }

    pub(super) fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.stream.write_all(data)
    }
}

/// What to do with the connection after a request.
pub(super) enum Flow {
    KeepAlive,
    /// Graceful close: FIN, then drain what the client still sends (bounded).
    Close,
    /// Just drop the socket.
    Abort,
}

pub(super) fn serve_connection(sh: &Shared, stream: TcpStream) {
    let mut c = Conn { stream, buf: Vec::with_capacity(16 * 1024) };
    loop {
        if sh.stopping.load(Ordering::Relaxed) {
            return;
        }
        match handle_request(sh, &mut c) {
            Ok(Flow::KeepAlive) => continue,
            Ok(Flow::Close) => {
                lingering_close(&c.stream);
                return;
            }
            Ok(Flow::Abort) | Err(_) => return,
        }
    }
}

pub(super) fn lingering_close(s: &TcpStream) {
    let _ = s.shutdown(Shutdown::Write);
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut tmp = [0u8; 8192];
    let mut total = 0usize;
    let mut r: &TcpStream = s;
    loop {
        match r.read(&mut tmp) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n;
                if total > (4 << 20) || Instant::now() > deadline {
                    break;
                }
            }
        }
    }
}

/// Makes the coming close of `s` a reset (RST) instead of an orderly FIN: SO_LINGER on
/// with a zero timeout. Where that cannot be set, the close stays orderly.
pub(super) fn reset_connection(s: &TcpStream) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let linger = libc::linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: setsockopt on a socket this connection owns, with a linger struct.
        unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                &linger as *const libc::linger as *const libc::c_void,
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(unix))]
    let _ = s;
}

/// Blocks until the client closes the connection (or it fails).
pub(super) fn hang_until_closed(c: &mut Conn) {
    let mut tmp = [0u8; 8192];
    loop {
        match c.stream.read(&mut tmp) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
    }
}

pub(super) struct Head {
    pub(super) method: String,
    pub(super) target: String,
    pub(super) minor: u8,
    pub(super) headers: Vec<(String, String)>,
}

impl Head {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers_named(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

pub(super) enum HeadResult {
    Req(Head),
    Eof,
    TooLarge,
    Bad(String),
}

pub(super) fn read_head(c: &mut Conn) -> io::Result<HeadResult> {
    loop {
        if !c.buf.is_empty() {
            let mut hdrs = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut hdrs);
            match req.parse(&c.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let head = Head {
                        method: req.method.unwrap_or("").to_string(),
                        target: req.path.unwrap_or("").to_string(),
                        minor: req.version.unwrap_or(1),
                        headers: req
                            .headers
                            .iter()
                            .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
                            .collect(),
                    };
                    c.buf.drain(..n);
                    return Ok(HeadResult::Req(head));
                }
                Ok(httparse::Status::Partial) => {
                    if c.buf.len() > MAX_HEAD_BYTES {
                        return Ok(HeadResult::TooLarge);
                    }
                }
                Err(httparse::Error::TooManyHeaders) => return Ok(HeadResult::TooLarge),
                Err(e) => return Ok(HeadResult::Bad(e.to_string())),
            }
        }
        if c.fill()? == 0 {
            return Ok(HeadResult::Eof);
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Framing {
    Length(usize),
    Chunked,
}

pub(super) fn framing(head: &Head) -> Result<Framing, String> {
    let te: Vec<&str> = head.headers_named("transfer-encoding").collect();
    if !te.is_empty() {
        let last = te
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|t| !t.is_empty())
            .unwrap_or("");
        return if last.eq_ignore_ascii_case("chunked") {
            Ok(Framing::Chunked)
        } else {
            Err(format!("stub: unsupported Transfer-Encoding: {}", te.join(", ")))
        };
    }
    let mut len: Option<usize> = None;
    for v in head.headers_named("content-length").flat_map(|v| v.split(',')) {
        let v = v.trim();
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("stub: invalid Content-Length: {v:?}"));
        }
        let n: usize = v.parse().map_err(|_| format!("stub: invalid Content-Length: {v:?}"))?;
        if matches!(len, Some(prev) if prev != n) {
            return Err("stub: conflicting Content-Length headers".to_string());
        }
        len = Some(n);
    }
    Ok(Framing::Length(len.unwrap_or(0)))
}

pub(super) enum BodyError {
    Io(io::Error),
    Eof,
    TooLarge,
    Bad(String),
}

impl From<io::Error> for BodyError {
    fn from(e: io::Error) -> Self {
        BodyError::Io(e)
    }
}

pub(super) fn read_body(c: &mut Conn, f: Framing) -> Result<Vec<u8>, BodyError> {
    match f {
        Framing::Length(n) => {
            if n > MAX_BODY_BYTES {
                return Err(BodyError::TooLarge);
            }
            while c.buf.len() < n {
                if c.fill()? == 0 {
                    return Err(BodyError::Eof);
                }
            }
            Ok(c.buf.drain(..n).collect())
        }
        Framing::Chunked => {
            let mut body = Vec::new();
            loop {
                let line = read_line(c)?;
                let size_txt = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size_txt, 16)
                    .map_err(|_| BodyError::Bad(format!("stub: bad chunk size {size_txt:?}")))?;
                if size == 0 {
                    // Trailer section, up to the empty line.
                    loop {
                        if read_line(c)?.is_empty() {
                            return Ok(body);
                        }
                    }
                }
                if body.len().saturating_add(size) > MAX_BODY_BYTES {
                    return Err(BodyError::TooLarge);
                }
                while c.buf.len() < size + 2 {
                    if c.fill()? == 0 {
                        return Err(BodyError::Eof);
                    }
                }
                if &c.buf[size..size + 2] != b"\r\n" {
                    return Err(BodyError::Bad("stub: chunk not followed by CRLF".into()));
                }
                body.extend_from_slice(&c.buf[..size]);
                c.buf.drain(..size + 2);
            }
        }
    }
}

/// One line (without CRLF / LF) from the buffer.
pub(super) fn read_line(c: &mut Conn) -> Result<String, BodyError> {
    loop {
        if let Some(pos) = c.buf.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = c.buf.drain(..=pos).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(String::from_utf8_lossy(&line).into_owned());
        }
        if c.buf.len() > 8192 {
            return Err(BodyError::Bad("stub: chunk line too long".into()));
        }
        if c.fill()? == 0 {
            return Err(BodyError::Eof);
        }
    }
}
