//! Self-test of the SuperOffice stub server (tests/stub/mod.rs) against
//! docs/stub-protocol.md, with hand-written HTTP over raw TCP sockets.

use superoffice_stub as stub;
use superoffice_stub::httparse;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use stub::{Stub, ENDPOINT};

const BASIC: &str = "Authorization: Basic dGplMDpUamUw";
const JSON_CT: &str = "Content-Type: application/json; charset=utf-8";
const BODY: &str = r#"{"PersonId":670,"From":"a@example.com","To":"b@example.com","Subject":"Hello"}"#;
const UNAUTHORIZED: &str = r#"{"Error":true,"ErrorType":"UnauthorizedAccessException","ErrorMessage":"Invalid credentials","ErrorSource":"Stub"}"#;

// ---------------------------------------------------------------------------------------
// A tiny raw HTTP client
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text()))
    }
}

struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(stub: &Stub) -> Client {
        let s = TcpStream::connect(stub.addr()).expect("connect to stub");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_nodelay(true).unwrap();
        Client { s, buf: Vec::new() }
    }

    fn send(&mut self, raw: &[u8]) {
        self.s.write_all(raw).expect("write request");
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        let mut tmp = [0u8; 65536];
        let n = self.s.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    fn read_response(&mut self) -> Resp {
        self.try_read_response().unwrap_or_else(|e| panic!("no response: {e}"))
    }

    fn try_read_response(&mut self) -> Result<Resp, String> {
        let mut max_headers = 64;
        let (status, headers, n) = loop {
            let mut hdrs = vec![httparse::EMPTY_HEADER; max_headers];
            let mut r = httparse::Response::new(&mut hdrs);
            match r.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let headers = r
                        .headers
                        .iter()
                        .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).into_owned()))
                        .collect::<Vec<_>>();
                    break (r.code.unwrap(), headers, n);
                }
                Ok(httparse::Status::Partial) => {}
                Err(httparse::Error::TooManyHeaders) if max_headers < 100_000 => {
                    max_headers = 100_000;
                    continue;
                }
                Err(e) => {
                    return Err(format!("bad response head ({e}): {:?}", String::from_utf8_lossy(&self.buf)))
                }
            }
            match self.fill() {
                Ok(0) => return Err(format!("EOF after {:?}", String::from_utf8_lossy(&self.buf))),
                Ok(_) => {}
                Err(e) => return Err(format!("read error {e}")),
            }
        };
        self.buf.drain(..n);
        let mut resp = Resp { status, headers, body: Vec::new() };
        if status == 204 || status == 304 || (100..200).contains(&status) {
            return Ok(resp);
        }
        if let Some(len) = resp.header("content-length") {
            let len: usize = len.trim().parse().map_err(|_| "bad Content-Length".to_string())?;
            while self.buf.len() < len {
                match self.fill() {
                    Ok(0) => return Err(format!("EOF inside body ({} of {len})", self.buf.len())),
                    Ok(_) => {}
                    Err(e) => return Err(format!("read error in body: {e}")),
                }
            }
            resp.body = self.buf.drain(..len).collect();
        } else {
            // Delimited by close.
            while let Ok(n) = self.fill() {
                if n == 0 {
                    break;
                }
            }
            resp.body = std::mem::take(&mut self.buf);
        }
        Ok(resp)
    }

    fn request(&mut self, raw: &[u8]) -> Resp {
        self.send(raw);
        self.read_response()
    }

    /// Everything the server still sends, until it closes (EOF or reset).
    fn read_until_closed(&mut self) -> Vec<u8> {
        loop {
            match self.fill() {
                Ok(0) => break,
                Ok(_) => assert!(
                    self.buf.len() < (64 << 20),
                    "server keeps sending without closing: {:?}...",
                    String::from_utf8_lossy(&self.buf[..200])
                ),
                Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                    panic!("server did not close the connection; got {:?}", String::from_utf8_lossy(&self.buf))
                }
                Err(_) => break, // reset
            }
        }
        std::mem::take(&mut self.buf)
    }

    /// True when the server closed the connection (no further bytes).
    fn assert_closed(&mut self) {
        let rest = self.read_until_closed();
        assert!(rest.is_empty(), "unexpected bytes before close: {:?}", String::from_utf8_lossy(&rest));
    }
}

fn ep(tenant: &str) -> String {
    format!("{tenant}{ENDPOINT}")
}

fn post(path: &str, headers: &[&str], body: &str) -> Vec<u8> {
    let mut out = format!("POST {path} HTTP/1.1\r\nHost: stub.test\r\n");
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    out.push_str(body);
    out.into_bytes()
}

fn valid(path: &str) -> Vec<u8> {
    post(path, &[BASIC, JSON_CT, "Accept: application/json"], BODY)
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: stub.test\r\n\r\n").into_bytes()
}

fn once(stub: &Stub, raw: &[u8]) -> Resp {
    Client::connect(stub).request(raw)
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

fn assert_error(r: &Resp, status: u16, etype: &str, key: &str, msg: &str) {
    assert_eq!(r.status, status, "status; body {:?}", r.text());
    assert!(
        r.header("content-type").unwrap_or("").starts_with("application/json"),
        "content type {:?}",
        r.header("content-type")
    );
    let v = r.json();
    assert_eq!(v["Error"], json!(true), "{v}");
    assert_eq!(v["ErrorType"], json!(etype), "{v}");
    assert_eq!(v["ErrorSource"], json!("Stub"), "{v}");
    assert!(v[key].is_string(), "key {key} missing in {v}");
    if !msg.is_empty() {
        assert_eq!(v[key], json!(msg), "{v}");
    }
    let other = if key == "Message" { "ErrorMessage" } else { "Message" };
    assert!(v.get(other).is_none(), "unexpected key {other} in {v}");
}

// ---------------------------------------------------------------------------------------
// Default behaviour, recording, keep-alive
// ---------------------------------------------------------------------------------------

#[test]
fn default_answer_is_204_json_and_request_is_recorded() {
    let s = Stub::start();
    assert_eq!(s.url(), format!("http://127.0.0.1:{}", s.port()));
    assert_eq!(s.endpoint("/Cust1"), format!("{}/Cust1{ENDPOINT}", s.url()));
    let path = ep("/rec-1/Cust12345");
    let mut c = Client::connect(&s);
    let r = c.request(&post(
        &format!("{path}?$select=name"),
        &[BASIC, JSON_CT, "X-Custom-Case: Value 1", "so-language: sv"],
        BODY,
    ));
    assert_eq!(r.status, 204);
    assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));
    assert!(r.header("content-length").is_none(), "no Content-Length on 204");
    assert!(r.header("connection").is_none());

    // Keep-alive: same connection, second request.
    let r = c.request(&valid(&path));
    assert_eq!(r.status, 204);

    assert_eq!(s.count("/rec-1"), 2);
    assert_eq!(s.count("/rec-"), 2);
    assert_eq!(s.count("/rec-2"), 0);
    let reqs = s.requests("/rec-1/");
    assert_eq!(reqs.len(), 2);
    let first = &reqs[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.path, path);
    assert_eq!(first.query, "$select=name");
    assert_eq!(first.body_str(), BODY);
    assert_eq!(first.body_json().unwrap()["PersonId"], json!(670));
    assert_eq!(first.header("x-custom-case"), Some("Value 1"));
    // Header names are kept as received.
    assert!(first.headers.iter().any(|(n, v)| n == "X-Custom-Case" && v == "Value 1"));
    assert!(first.headers.iter().any(|(n, v)| n == "so-language" && v == "sv"));
    assert_eq!(first.headers[0], ("Host".to_string(), "stub.test".to_string()));
    assert_eq!(reqs[1].query, "");
}

#[test]
fn empty_tenant_path_and_plain_names_work() {
    let s = Stub::start();
    assert_eq!(once(&s, &valid(ENDPOINT)).status, 204);
    assert_eq!(once(&s, &valid(&ep("/a/b/c"))).status, 204);
    // Unknown key=value and names that only look like directives are just names.
    assert_eq!(once(&s, &valid(&ep("/x=1/hangar/garbageman/Cust1"))).status, 204);
    // Bare segments are directives only for hang, garbage, truncate and null_body.
    assert_eq!(once(&s, &valid(&ep("/status/body/auth/drop/Cust1"))).status, 204);
    assert_eq!(s.count("/"), 4);
}

#[test]
fn many_requests_on_one_keep_alive_connection_and_pipelining() {
    let s = Stub::start();
    let path = ep("/ka");
    let raw = valid(&path);
    let mut c = Client::connect(&s);
    let t0 = Instant::now();
    for _ in 0..2000 {
        assert_eq!(c.request(&raw).status, 204);
    }
    let elapsed = t0.elapsed();
    assert!(elapsed < Duration::from_secs(20), "2000 keep-alive requests took {elapsed:?}");
    // Two pipelined requests in one write.
    let mut two = raw.clone();
    two.extend_from_slice(&raw);
    c.send(&two);
    assert_eq!(c.read_response().status, 204);
    assert_eq!(c.read_response().status, 204);
    assert_eq!(s.count("/ka"), 2002);
    assert_eq!(s.accepted_connections(), 1);
}

#[test]
fn concurrent_connections() {
    let s = Stub::start();
    thread::scope(|scope| {
        for t in 0..8 {
            let s = &s;
            scope.spawn(move || {
                let raw = valid(&ep(&format!("/conc/t{t}")));
                let mut c = Client::connect(s);
                for _ in 0..300 {
                    assert_eq!(c.request(&raw).status, 204);
                }
            });
        }
    });
    assert_eq!(s.count("/conc/"), 2400);
    assert_eq!(s.count("/conc/t3/"), 300);
}

#[test]
fn connection_close_is_honoured() {
    let s = Stub::start();
    let mut c = Client::connect(&s);
    let r = c.request(&post(&ep("/cc"), &[BASIC, JSON_CT, "Connection: close"], BODY));
    assert_eq!(r.status, 204);
    assert_eq!(r.header("connection"), Some("close"));
    c.assert_closed();

    // HTTP/1.0 without keep-alive closes too; with keep-alive it stays open.
    let mut c = Client::connect(&s);
    let raw10 = format!(
        "POST {} HTTP/1.0\r\n{BASIC}\r\n{JSON_CT}\r\nContent-Length: {}\r\n\r\n{BODY}",
        ep("/cc"),
        BODY.len()
    );
    assert_eq!(c.request(raw10.as_bytes()).status, 204);
    c.assert_closed();

    let mut c = Client::connect(&s);
    let raw10ka = format!(
        "POST {} HTTP/1.0\r\nConnection: keep-alive\r\n{BASIC}\r\n{JSON_CT}\r\nContent-Length: {}\r\n\r\n{BODY}",
        ep("/cc"),
        BODY.len()
    );
    let r = c.request(raw10ka.as_bytes());
    assert_eq!(r.header("connection"), Some("keep-alive"));
    assert_eq!(c.request(raw10ka.as_bytes()).status, 204);
}

#[test]
fn chunked_request_body_is_decoded() {
    let s = Stub::start();
    let (a, b) = BODY.split_at(20);
    let raw = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\n{BASIC}\r\n{JSON_CT}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:X};ext=1\r\n{b}\r\n0\r\nX-Trailer: t\r\n\r\n",
        ep("/chunked"),
        a.len(),
        b.len()
    );
    let mut c = Client::connect(&s);
    assert_eq!(c.request(raw.as_bytes()).status, 204);
    // The connection is still usable.
    assert_eq!(c.request(&valid(&ep("/chunked"))).status, 204);
    let reqs = s.requests("/chunked");
    assert_eq!(reqs[0].body_str(), BODY);
}

#[test]
fn expect_100_continue() {
    let s = Stub::start();
    let mut c = Client::connect(&s);
    c.send(
        format!(
            "POST {} HTTP/1.1\r\nHost: x\r\n{BASIC}\r\n{JSON_CT}\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            ep("/expect"),
            BODY.len()
        )
        .as_bytes(),
    );
    assert_eq!(c.read_response().status, 100);
    c.send(BODY.as_bytes());
    assert_eq!(c.read_response().status, 204);
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

#[test]
fn method_and_unknown_paths() {
    let s = Stub::start();
    let r = once(&s, &get(&ep("/m")));
    assert_error(&r, 405, "MethodNotAllowed", "ErrorMessage", "");
    assert_eq!(r.header("allow"), Some("POST"));
    let put = format!(
        "PUT {} HTTP/1.1\r\n{BASIC}\r\n{JSON_CT}\r\nContent-Length: {}\r\n\r\n{BODY}",
        ep("/m"),
        BODY.len()
    );
    assert_eq!(once(&s, put.as_bytes()).status, 405);

    let r = once(&s, &valid("/m/api/v1/Agents/Person/Nope"));
    assert_error(&r, 404, "NotFound", "ErrorMessage", "");
    let r = once(&s, &valid(&format!("{}/", ep("/m"))));
    assert_eq!(r.status, 404, "trailing slash is another path");
    // Every such request was recorded.
    assert_eq!(s.count("/m"), 4);
}

#[test]
fn content_type_must_be_json() {
    let s = Stub::start();
    let path = ep("/ct");
    let r = once(&s, &post(&path, &[BASIC], BODY));
    assert_error(&r, 415, "UnsupportedMediaType", "ErrorMessage", "");
    let r = once(&s, &post(&path, &[BASIC, "Content-Type: text/plain"], BODY));
    assert_error(&r, 415, "UnsupportedMediaType", "ErrorMessage", "");
    assert_eq!(once(&s, &post(&path, &[BASIC, "Content-Type: application/json"], BODY)).status, 204);
    assert_eq!(once(&s, &post(&path, &[BASIC, "Content-Type: Application/JSON"], BODY)).status, 204);
    // Content type is checked before credentials.
    assert_eq!(once(&s, &post(&path, &["Content-Type: text/json"], BODY)).status, 415);
}

#[test]
fn body_keys_are_bound_without_regard_to_case() {
    let s = Stub::start();
    let path = ep("/body");
    let bad = [
        "",
        "not json",
        "[]",
        "null",
        r#"{"From":"a","To":"b","Subject":"s"}"#,
        r#"{"PersonId":670,"From":"a","To":"b","Subject":"s","Extra":1}"#,
        r#"{"PersonId":670,"personid":670,"From":"a","To":"b","Subject":"s"}"#,
        r#"{"PersonId":"670","From":"a","To":"b","Subject":"s"}"#,
        r#"{"PersonId":670.5,"From":"a","To":"b","Subject":"s"}"#,
        r#"{"PersonId":null,"From":"a","To":"b","Subject":"s"}"#,
        r#"{"PersonId":670,"From":5,"To":"b","Subject":"s"}"#,
        r#"{"PersonId":670,"From":"a","To":["b"],"Subject":"s"}"#,
        r#"{"PersonId":670,"From":"a","To":"b","Subject":{}}"#,
    ];
    for b in bad {
        let r = once(&s, &post(&path, &[BASIC, JSON_CT], b));
        assert_error(&r, 400, "ArgumentException", "Message", "");
        // The body is checked before credentials.
        let r = once(&s, &post(&path, &[JSON_CT], b));
        assert_eq!(r.status, 400, "body {b:?} without credentials");
    }
    let ok = [
        r#"{"PersonId":670,"From":null,"To":null,"Subject":null}"#,
        r#"{"Subject":"s","To":"b","From":"a","PersonId":-3}"#,
        r#"{ "PersonId" : 0 , "From" : "" , "To" : "" , "Subject" : "" }"#,
        r#"{"personId":670,"from":"a","to":"b","subject":"s"}"#,
        r#"{"PERSONID":670,"fRoM":"a","To":"b","SUBJECT":"s"}"#,
        r#"{"PersonId":670,"From":"a","To":"b"}"#,
        r#"{"personId":670}"#,
    ];
    for b in ok {
        assert_eq!(once(&s, &post(&path, &[BASIC, JSON_CT], b)).status, 204, "body {b:?}");
    }
    assert_eq!(s.count("/body"), bad.len() * 2 + ok.len());
}

#[test]
fn credentials() {
    let s = Stub::start();
    let path = ep("/auth");
    let good = [
        vec![BASIC],
        vec!["Authorization: basic dGplMDpUamUw"],
        vec!["Authorization: SOTicket 7T:dGVzdA=="],
        vec!["Authorization: soticket 7T:dGVzdA=="],
        vec!["Authorization: SoTicket fresh-1234"],
        vec!["Authorization: Bearer 8A:Cust12345.token"],
        vec!["Authorization: bearer fresh-abc"],
        vec!["X-XSRF-TOKEN: xsrf-123"],
        vec!["x-xsrf-token: xsrf-123"],
    ];
    for h in &good {
        let mut hs = h.clone();
        hs.push(JSON_CT);
        assert_eq!(once(&s, &post(&path, &hs, BODY)).status, 204, "{h:?}");
    }
    let bad = [
        vec![],
        vec!["Authorization: Basic dGplMDpXcm9uZw=="],
        vec!["Authorization: Basic fresh-1"],
        vec!["Authorization: SOTicket 7T:wrong"],
        vec!["Authorization: Bearer 8A:Cust99999.token"],
        vec!["Authorization: Bearer"],
        vec!["Authorization: Digest abc"],
        vec!["X-XSRF-TOKEN: wrong"],
        // An Authorization header wins over the XSRF token.
        vec!["Authorization: Bearer nope", "X-XSRF-TOKEN: xsrf-123"],
        vec![BASIC, "Authorization: SOTicket 7T:dGVzdA=="],
    ];
    for h in &bad {
        let mut hs = h.clone();
        hs.push(JSON_CT);
        let r = once(&s, &post(&path, &hs, BODY));
        assert_eq!(r.status, 401, "{h:?}");
        assert_eq!(r.text(), UNAUTHORIZED, "{h:?}");
        assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));
    }
    assert_eq!(s.count("/auth"), good.len() + bad.len());
}

#[test]
fn auth_directive_requires_one_scheme() {
    let s = Stub::start();
    let schemes = [
        ("basic", BASIC),
        ("ticket", "Authorization: SOTicket 7T:dGVzdA=="),
        ("bearer", "Authorization: Bearer 8A:Cust12345.token"),
        ("xsrf", "X-XSRF-TOKEN: xsrf-123"),
    ];
    for (want, _) in schemes {
        let path = ep(&format!("/authd/auth={want}/Cust1"));
        for (have, header) in schemes {
            let r = once(&s, &post(&path, &[header, JSON_CT], BODY));
            let expect = if want == have { 204 } else { 401 };
            assert_eq!(r.status, expect, "auth={want} with {have}");
        }
    }
}

#[test]
fn person_99999_is_not_found() {
    let s = Stub::start();
    let r = once(
        &s,
        &post(&ep("/p"), &[BASIC, JSON_CT], r#"{"PersonId":99999,"From":"a","To":"b","Subject":"s"}"#),
    );
    assert_error(&r, 404, "SoNotFoundException", "ErrorMessage", "Person id 99999 not found");
    // Credentials come first.
    let r = once(&s, &post(&ep("/p"), &[JSON_CT], r#"{"PersonId":99999,"From":"a","To":"b","Subject":"s"}"#));
    assert_eq!(r.status, 401);
}

// ---------------------------------------------------------------------------------------
// Answer directives
// ---------------------------------------------------------------------------------------

#[test]
fn status_directive_and_body_styles() {
    let s = Stub::start();
    let r = once(&s, &valid(&ep("/st/status=503/Cust1")));
    assert_eq!(
        r.text(),
        r#"{"Error":true,"ErrorType":"SoStubException","ErrorMessage":"stub status 503","ErrorSource":"Stub"}"#
    );
    assert_eq!(r.status, 503);

    let r = once(&s, &valid(&ep("/st/status=404")));
    assert_error(&r, 404, "SoNotFoundException", "ErrorMessage", "Person id 670 not found");

    let r = once(&s, &valid(&ep("/st/status=400/body=message")));
    assert_error(&r, 400, "SoStubException", "Message", "stub status 400");

    let r = once(&s, &valid(&ep("/st/status=500/body=none")));
    assert_eq!(r.status, 500);
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-length"), Some("0"));

    let r = once(&s, &valid(&ep("/st/status=502/body=html")));
    assert_eq!(r.status, 502);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.text().starts_with("<!DOCTYPE html>"), "{}", r.text());

    let r = once(&s, &valid(&ep("/st/status=500/body=big")));
    assert_eq!(r.status, 500);
    assert_eq!(r.body.len(), 2 * 1024 * 1024);
    assert_error(&r, 500, "SoStubException", "ErrorMessage", "stub status 500");

    // A 2xx status answers with the error body (agents "do not implement HTTP semantics").
    let r = once(&s, &valid(&ep("/st/status=200")));
    assert_error(&r, 200, "SoStubException", "ErrorMessage", "stub status 200");
    let r = once(&s, &valid(&ep("/st/status=204")));
    assert_eq!(r.status, 204);

    // Validation still comes first.
    let r = once(&s, &post(&ep("/st/status=503"), &[JSON_CT], BODY));
    assert_eq!(r.status, 401);
    // ... and its error answer follows body=.
    let r = once(&s, &post(&ep("/st/body=message"), &[JSON_CT], BODY));
    assert_error(&r, 401, "UnauthorizedAccessException", "Message", "Invalid credentials");
    let r = once(&s, &post(&ep("/st/body=none"), &[JSON_CT], BODY));
    assert_eq!((r.status, r.body.len()), (401, 0));
}

#[test]
fn location_and_retry_after() {
    let s = Stub::start();
    let r = once(&s, &valid(&ep("/loc/status=307/location=http%3A%2F%2F127.0.0.1%3A9%2Fx%2Fapi%3Fa%3Db")));
    assert_eq!(r.status, 307);
    assert_eq!(r.header("location"), Some("http://127.0.0.1:9/x/api?a=b"));

    let r = once(&s, &valid(&ep("/ra/status=429/retry_after=120")));
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("120"));

    let r = once(&s, &valid(&ep("/ra/status=503/retry_after=Wed,_21_Oct_2015_07:28:00_GMT")));
    assert_eq!(r.header("retry-after"), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
    let r = once(&s, &valid(&ep("/ra/status=503/retry_after=Wed%2C%2021%20Oct%202015%2007%3A28%3A00%20GMT")));
    assert_eq!(r.header("retry-after"), Some("Wed, 21 Oct 2015 07:28:00 GMT"));

    // Header injection through a directive is refused.
    let r = once(&s, &valid(&ep("/loc/status=302/location=x%0D%0AX-Evil:%201")));
    assert_eq!(r.status, 400);
    assert!(r.header("x-evil").is_none());
}

#[test]
fn bad_directive_values_get_400() {
    let s = Stub::start();
    for t in [
        "/bd/status=abc",
        "/bd/status=99",
        "/bd/status=600",
        "/bd/drop=sideways",
        "/bd/body=xml",
        "/bd/auth=ntlm",
        "/bd/delay_ms=-1",
        "/bd/fail_first=x",
        "/bd/ok_body=lots",
    ] {
        let r = once(&s, &valid(&ep(t)));
        assert_error(&r, 400, "ArgumentException", "Message", "");
        assert!(r.json()["Message"].as_str().unwrap().contains("bad directive"), "{t}");
    }
}

#[test]
fn fail_first_counts_per_exact_tenant_path() {
    let s = Stub::start();
    let a = valid(&ep("/ff-a/fail_first=2/status=503/retry_after=1/Cust1"));
    let mut c = Client::connect(&s);
    let r = c.request(&a);
    assert_eq!((r.status, r.header("retry-after")), (503, Some("1")));
    assert_eq!(c.request(&a).status, 503);
    let r = c.request(&a);
    assert_eq!(r.status, 204);
    assert!(r.header("retry-after").is_none());
    assert_eq!(c.request(&a).status, 204);

    // Another tenant path has its own counter, even with the same directives.
    let b = valid(&ep("/ff-b/fail_first=2/status=503/retry_after=1/Cust1"));
    assert_eq!(c.request(&b).status, 503);

    // fail_first=0 never fails.
    assert_eq!(c.request(&valid(&ep("/ff-z/fail_first=0/status=500"))).status, 204);

    // Reset forgets the counters (in-process and through the control endpoint).
    s.reset();
    assert_eq!(c.request(&a).status, 503);
    assert_eq!(c.request(&a).status, 503);
    assert_eq!(c.request(&a).status, 204);
    let r = c.request(b"POST /_stub/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(c.request(&a).status, 503);

    // fail_first gates transport faults too: first request dropped, then 204.
    let d = valid(&ep("/ff-d/fail_first=1/drop=after"));
    let mut c1 = Client::connect(&s);
    c1.send(&d);
    c1.assert_closed();
    assert_eq!(once(&s, &d).status, 204);
    assert_eq!(s.count("/ff-d"), 2);
}

#[test]
fn delay_ms_sleeps_before_answering() {
    let s = Stub::start();
    let t0 = Instant::now();
    assert_eq!(once(&s, &valid(&ep("/delay/delay_ms=300"))).status, 204);
    assert!(t0.elapsed() >= Duration::from_millis(300), "{:?}", t0.elapsed());

    let t0 = Instant::now();
    assert_eq!(once(&s, &valid(&ep("/delay/delay_ms=250/status=503"))).status, 503);
    assert!(t0.elapsed() >= Duration::from_millis(250));

    // With fail_first the delay only applies to the first K requests.
    let p = valid(&ep("/delay2/fail_first=1/delay_ms=1500"));
    let t0 = Instant::now();
    assert_eq!(once(&s, &p).status, 204);
    assert!(t0.elapsed() >= Duration::from_millis(1500));
    let t0 = Instant::now();
    assert_eq!(once(&s, &p).status, 204);
    assert!(t0.elapsed() < Duration::from_millis(1400), "{:?}", t0.elapsed());
}

#[test]
fn hang_never_answers_until_the_client_goes() {
    let s = Stub::start();
    let mut c = Client::connect(&s);
    c.s.set_read_timeout(Some(Duration::from_millis(400))).unwrap();
    c.send(&valid(&ep("/hang/hang")));
    let mut b = [0u8; 16];
    match c.s.read(&mut b) {
        Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {}
        other => panic!("expected no answer, got {other:?}"),
    }
    // Recorded, and the connection is still open on the server side.
    assert_eq!(s.count("/hang"), 1);
    assert_eq!(s.open_connections(), 1);
    drop(c);
    wait_until("hang connection to end after the client closed", || s.open_connections() == 0);
}

#[test]
fn drop_before_after_during() {
    let s = Stub::start();

    let mut c = Client::connect(&s);
    c.send(&valid(&ep("/drop-b/drop=before")));
    c.assert_closed();
    let r = &s.requests("/drop-b")[0];
    assert!(r.body.is_empty(), "drop=before records no body");
    assert_eq!(r.method, "POST");

    let mut c = Client::connect(&s);
    c.send(&valid(&ep("/drop-a/drop=after")));
    c.assert_closed();
    assert_eq!(s.requests("/drop-a")[0].body_str(), BODY);

    let full = "HTTP/1.1 204 No Content\r\nContent-Type: application/json; charset=utf-8\r\n\r\n";
    let mut c = Client::connect(&s);
    c.send(&valid(&ep("/drop-d/drop=during")));
    let got = String::from_utf8(c.read_until_closed()).unwrap();
    assert!(!got.is_empty() && got.len() < full.len(), "{got:?}");
    assert!(full.starts_with(&got), "{got:?}");
    assert!(got.starts_with("HTTP/1.1 2"), "{got:?}");
    assert!(!got.contains("\r\n\r\n"));
}

#[test]
fn garbage_and_truncate() {
    let s = Stub::start();
    let mut c = Client::connect(&s);
    c.send(&valid(&ep("/garbage/garbage")));
    assert_eq!(c.read_until_closed(), b"this is not HTTP\r\n\r\n");

    let mut c = Client::connect(&s);
    c.send(&valid(&ep("/trunc/truncate")));
    let all = c.read_until_closed();
    let text = String::from_utf8(all).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(head.lines().any(|l| l.eq_ignore_ascii_case("content-length: 1000")), "{head}");
    assert_eq!(body.len(), 10);
    assert_eq!(s.count("/garbage"), 1);
    assert_eq!(s.count("/trunc"), 1);
}

#[test]
fn ok_body_streams_exactly_n_bytes() {
    let s = Stub::start();
    let n: usize = 20 * 1024 * 1024 + 7;
    let mut c = Client::connect(&s);
    c.send(&valid(&ep(&format!("/okb/ok_body={n}"))));
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.header("content-length"), Some(n.to_string().as_str()));
    assert_eq!(r.body.len(), n);
    // Keep-alive still works afterwards.
    assert_eq!(c.request(&valid(&ep("/okb"))).status, 204);

    let r = once(&s, &valid(&ep("/okb/ok_body=0")));
    assert_eq!((r.status, r.body.len()), (200, 0));
}

#[test]
fn ok_body_stops_quietly_when_the_client_hangs_up() {
    let s = Stub::start();
    let mut c = Client::connect(&s);
    // 64 GiB: never held in memory, and the server must stop when we go.
    c.send(&valid(&ep("/okb-hup/ok_body=68719476736")));
    let mut got = 0usize;
    let mut b = vec![0u8; 65536];
    while got < 4 * 1024 * 1024 {
        let n = c.s.read(&mut b).unwrap();
        assert!(n > 0);
        got += n;
    }
    drop(c);
    wait_until("streaming connection to end", || s.open_connections() == 0);
    // The server still answers.
    assert_eq!(once(&s, &valid(&ep("/okb-hup"))).status, 204);
}

#[test]
fn header_flood() {
    let s = Stub::start();
    let r = once(&s, &valid(&ep("/flood/header_flood=500")));
    assert_eq!(r.status, 204);
    let flood: Vec<_> = r.headers.iter().filter(|(n, _)| n.starts_with("X-Flood-")).collect();
    assert_eq!(flood.len(), 500);
    assert_eq!(flood[0].0, "X-Flood-0");
    assert_eq!(flood[499].0, "X-Flood-499");
    let r = once(&s, &valid(&ep("/flood/header_flood=20000")));
    assert_eq!(r.headers_named("x-flood-19999").len(), 1);
}

#[test]
fn null_body_sends_the_literal_sample_then_closes() {
    let s = Stub::start();
    let mut c = Client::connect(&s);
    c.send(&valid(&ep("/nb/null_body")));
    let text = String::from_utf8(c.read_until_closed()).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 204 No Content\r\n"), "{head}");
    assert!(head.contains("Connection: close"), "{head}");
    assert_eq!(body, "null");
}

// ---------------------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------------------

#[test]
fn malformed_requests_get_400_and_close() {
    let s = Stub::start();
    let cases: Vec<Vec<u8>> = vec![
        b"\x01\x02 nonsense\r\n\r\n".to_vec(),
        b"POST\r\n\r\n".to_vec(),
        b"POST / HTTP/9.9\r\n\r\n".to_vec(),
        b"POST /x HTTP/1.1\r\nBad Header\r\n\r\n".to_vec(),
        format!("POST {} HTTP/1.1\r\nContent-Length: abc\r\n\r\n", ep("/mal")).into_bytes(),
        format!("POST {} HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", ep("/mal")).into_bytes(),
        format!("POST {} HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", ep("/mal")).into_bytes(),
        format!("POST {} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ep("/mal")).into_bytes(),
        format!("POST {} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", ep("/mal")).into_bytes(),
        b"POST * HTTP/1.1\r\n\r\n".to_vec(),
    ];
    for raw in &cases {
        let mut c = Client::connect(&s);
        c.send(raw);
        let r = c.try_read_response().unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(raw)));
        assert_eq!(r.status, 400, "{:?}", String::from_utf8_lossy(raw));
        assert_eq!(r.header("connection"), Some("close"));
        c.assert_closed();
    }

    // Too many headers or too large a head: 431.
    let mut many = format!("POST {} HTTP/1.1\r\n", ep("/mal"));
    for i in 0..400 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let r = once(&s, many.as_bytes());
    assert_eq!(r.status, 431);
    let huge = format!("POST {} HTTP/1.1\r\nX-Big: {}\r\n\r\n", ep("/mal"), "a".repeat(2 << 20));
    let mut c = Client::connect(&s);
    c.send(huge.as_bytes());
    assert_eq!(c.read_response().status, 431);

    // Too large a body: 413 without reading it.
    let r = once(&s, format!("POST {} HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", ep("/mal")).as_bytes());
    assert_eq!(r.status, 413);

    // A client that goes away mid-request does not disturb anything.
    for partial in [
        &b"POST /x HTTP/1.1\r\nContent-Le"[..],
        &format!("POST {} HTTP/1.1\r\nContent-Length: 100\r\n\r\n{{\"Pers", ep("/mal")).into_bytes()[..],
    ] {
        let mut c = Client::connect(&s);
        c.send(partial);
        drop(c);
    }
    // Non-UTF-8 bytes in a header value.
    let mut raw = format!("POST {} HTTP/1.1\r\n{BASIC}\r\n{JSON_CT}\r\nX-Bin: ", ep("/mal-bin")).into_bytes();
    raw.extend_from_slice(b"\xff\xfe\r\n");
    raw.extend_from_slice(format!("Content-Length: {}\r\n\r\n{BODY}", BODY.len()).as_bytes());
    assert_eq!(once(&s, &raw).status, 204);

    // The server is alive and well.
    assert_eq!(once(&s, &valid(&ep("/mal-ok"))).status, 204);
    wait_until("all connections to end", || s.open_connections() == 0);
}

// ---------------------------------------------------------------------------------------
// Control endpoints, tenant state, lifecycle
// ---------------------------------------------------------------------------------------

#[test]
fn control_endpoints() {
    let s = Stub::start();
    let mut c = Client::connect(&s);
    c.request(&post(&ep("/ctl-a/x"), &[BASIC, JSON_CT, "X-Mixed-Case: 1"], BODY));
    c.request(&post(&ep("/ctl-a/y"), &[JSON_CT], "{}"));
    c.request(&valid(&ep("/ctl-b")));

    let r = c.request(&get("/_stub/requests?prefix=%2Fctl-a"));
    assert_eq!(r.status, 200);
    let list = r.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let first = &list[0];
    assert_eq!(first["method"], json!("POST"));
    assert_eq!(first["path"], json!(ep("/ctl-a/x")));
    assert_eq!(first["query"], json!(""));
    assert_eq!(first["body"], json!(BODY));
    let headers = first["headers"].as_array().unwrap();
    assert!(headers.contains(&json!(["X-Mixed-Case", "1"])), "{headers:?}");
    assert!(headers.contains(&json!(["Authorization", "Basic dGplMDpUamUw"])));
    assert_eq!(list[1]["body"], json!("{}"));
    assert_eq!(list[1]["path"], json!(ep("/ctl-a/y")));

    let r = c.request(&get("/_stub/requests?prefix=/ctl-a/y"));
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    let r = c.request(&get("/_stub/requests"));
    assert_eq!(r.json().as_array().unwrap().len(), 3, "no prefix: everything");

    assert_eq!(c.request(&get("/_stub/count?prefix=/ctl-a")).json(), json!({"count": 2}));
    assert_eq!(c.request(&get("/_stub/count?prefix=%2Fctl-")).json(), json!({"count": 3}));
    assert_eq!(c.request(&get("/_stub/count?prefix=/nothing")).json(), json!({"count": 0}));
    // Control requests are not recorded.
    assert_eq!(s.count("/_stub"), 0);

    let conns = c.request(&get("/_stub/connections")).json();
    assert_eq!(conns["open"], json!(1));
    assert_eq!(conns["accepted"], json!(1));

    assert_eq!(c.request(&get("/_stub/reset")).status, 405);
    assert_eq!(c.request(&get("/_stub/nope")).status, 404);
    let r = c.request(b"POST /_stub/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.status, 200);
    assert_eq!(c.request(&get("/_stub/count?prefix=/")).json(), json!({"count": 0}));
    assert_eq!(s.count(""), 0);
}

#[test]
fn tenant_state_documents() {
    let s = Stub::start();
    let cases = [
        ("Cust12345", "Running", true),
        ("CustMaint", "InMaintenance", false),
        ("CustSusp", "Suspended", false),
        ("CustOM", "OnlineMaintenance", true),
    ];
    for (cust, state, running) in cases {
        let r = once(&s, &get(&format!("/api/state/{cust}")));
        assert_eq!(r.status, 200, "{cust}");
        let v = r.json();
        assert_eq!(v["ContextIdentifier"], json!(cust));
        assert_eq!(v["State"], json!(state));
        assert_eq!(v["IsRunning"], json!(running));
        assert_eq!(v["Endpoint"], json!(format!("{}/{cust}", s.url())));
        assert_eq!(v["Api"], json!(format!("{}/{cust}/api", s.url())));
        let until = v["ValidUntil"].as_str().unwrap();
        assert_eq!(until.len(), "2020-10-05T09:52:01.9342965Z".len(), "{until}");
        assert!(until.ends_with('Z') && until.as_bytes()[10] == b'T', "{until}");
    }
    assert_eq!(once(&s, &get("/api/state/Cust00000")).status, 404);
    assert_eq!(once(&s, &post("/api/state/Cust12345", &[], "")).status, 405);
}

#[test]
fn log_is_capped_dropping_the_oldest() {
    let s = Stub::start();
    s.set_log_cap(5);
    let mut c = Client::connect(&s);
    for i in 0..8 {
        c.request(&valid(&format!("{}?i={i}", ep("/cap"))));
    }
    let reqs = s.requests("/cap");
    assert_eq!(reqs.len(), 5);
    let qs: Vec<_> = reqs.iter().map(|r| r.query.as_str()).collect();
    assert_eq!(qs, ["i=3", "i=4", "i=5", "i=6", "i=7"]);
}

#[test]
fn large_recorded_bodies_are_cut() {
    let s = Stub::start();
    let big = format!(r#"{{"PersonId":1,"From":"{}","To":"b","Subject":"s"}}"#, "a".repeat(3 << 20));
    let r = once(&s, &post(&ep("/bigreq"), &[BASIC, JSON_CT], &big));
    assert_eq!(r.status, 204, "validated on the whole body");
    assert_eq!(s.requests("/bigreq")[0].body.len(), stub::RECORDED_BODY_CAP);
}

#[test]
fn percent_decoding() {
    assert_eq!(stub::percent_decode("a%2Fb%3a%zz%4"), "a/b:%zz%4");
    assert_eq!(stub::percent_decode("%E2%9C%93"), "\u{2713}");
    assert_eq!(stub::percent_decode(""), "");
    assert_eq!(stub::percent_decode("%"), "%");
}

#[test]
fn dropping_the_stub_closes_connections_and_the_port() {
    let s = Stub::start();
    let addr = s.addr();
    let mut c = Client::connect(&s);
    assert_eq!(c.request(&valid(&ep("/life"))).status, 204);
    let mut h = Client::connect(&s);
    h.send(&valid(&ep("/life/hang")));
    wait_until("hang request to be recorded", || s.count("/life/hang") == 1);
    drop(s);
    c.assert_closed();
    h.assert_closed();
    // Nobody listens any more.
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

#[test]
fn start_on_a_given_port() {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let s = Stub::start_on(port).expect("port was free a moment ago");
    assert_eq!(s.port(), port);
    assert_eq!(once(&s, &valid(ENDPOINT)).status, 204);
    // The port is taken now.
    assert!(Stub::start_on(port).is_err());
}

// ---------------------------------------------------------------------------------------
// The Person archive
// ---------------------------------------------------------------------------------------

const SEARCH: &str = "$select=personId,fullName,email/emailAddress&$entities=person&$top=51&$jsonSafe=true";

fn search(stub: &Stub, tenant: &str, address_query: &str, extra: &str) -> Resp {
    let path = format!(
        "{tenant}/api/v1/Person?{SEARCH}&$filter=email/emailAddress%20is%20'{address_query}'{extra}"
    );
    once(stub, format!("GET {path} HTTP/1.1\r\nHost: stub.test\r\n{BASIC}\r\n\r\n").as_bytes())
}

fn ids(r: &Resp) -> Vec<i64> {
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["value"].as_array().unwrap().iter().map(|row| row["PrimaryKey"].as_i64().unwrap()).collect()
}

#[test]
fn person_archive_plays_the_search() {
    let stub = Stub::start();
    let r = search(&stub, "/pa", "ann.able@example.com", "");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert!(v["odata.metadata"].is_string() && v["odata.nextLink"].is_null(), "{v}");
    assert_eq!(
        v["value"],
        json!([{"PrimaryKey": 11, "EntityName": "person", "personId": 11, "fullName": "Ann Able",
                "email_emailAddress": "ann.able@example.com"}])
    );
    // Case-insensitive, quotes doubled, `+` encoded (a bare `+` is a space), UTF-8.
    assert_eq!(ids(&search(&stub, "/pa", "EVE.MIXED@example.com", "")), vec![15]);
    assert_eq!(ids(&search(&stub, "/pa", "finn.o''brien@example.com", "")), vec![16]);
    assert_eq!(ids(&search(&stub, "/pa", "hal%2Bnews@example.com", "")), vec![18]);
    assert_eq!(ids(&search(&stub, "/pa", "hal+news@example.com", "")), Vec::<i64>::new());
    assert_eq!(ids(&search(&stub, "/pa", "j%C3%B6@ex%C3%A4mple.com", "")), vec![21]);
    // Two persons, one address; one person, two rows; retired persons left out by $entities.
    assert_eq!(ids(&search(&stub, "/pa", "shared@example.com", "")), vec![12, 13]);
    assert_eq!(ids(&search(&stub, "/pa", "gus@example.com", "")), vec![17, 17]);
    assert_eq!(ids(&search(&stub, "/pa", "retired@example.com", "")), Vec::<i64>::new());
    assert_eq!(ids(&search(&stub, "/pa", "ida@example.com", "")), vec![20]);
    assert_eq!(ids(&search(&stub, "/pa", "ida@example.com", "&$entities=person,retiredPerson")).len(), 1);
    // $top cuts and says so.
    let r = search(&stub, "/pa/crowd=60", "crowd@example.com", "");
    assert_eq!(ids(&r).len(), 51);
    assert!(r.json()["odata.nextLink"].is_string());
    // Another operator, another column, a broken string: 400.
    for bad in ["x'%20or%20'a'='a", "unclosed"] {
        let path = format!("/pa/api/v1/Person?$filter=email/emailAddress%20is%20'{bad}");
        let r = once(&stub, format!("GET {path} HTTP/1.1\r\nHost: stub.test\r\n{BASIC}\r\n\r\n").as_bytes());
        assert_error(&r, 400, "ArgumentException", "Message", "");
    }
    let r = once(&stub, format!("GET /pa/api/v1/Person?$filter=email/emailAddress%20contains%20'a' HTTP/1.1\r\nHost: stub.test\r\n{BASIC}\r\n\r\n").as_bytes());
    assert_error(&r, 400, "ArgumentException", "Message", "");
    // Credentials and method as for the endpoint.
    let r = once(&stub, &get("/pa/api/v1/Person?$top=1"));
    assert_error(&r, 401, "UnauthorizedAccessException", "ErrorMessage", "Invalid credentials");
    let r = once(&stub, &post("/pa/api/v1/Person", &[BASIC, JSON_CT], "{}"));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET"));
    assert_eq!(stub.sends_total("/pa"), 0);
}

#[test]
fn person_archive_faults() {
    let stub = Stub::start();
    let all = ids(&search(&stub, "/pf/archive=filter_ignored", "ann.able@example.com", ""));
    assert!(all.len() > 5 && all.contains(&12) && !all.contains(&14), "{all:?}");
    let r = search(&stub, "/pf/archive=jsonsafe_ignored", "ann.able@example.com", "");
    assert_eq!(r.json()["value"][0]["email/emailAddress"], "ann.able@example.com");
    let r = search(&stub, "/pf/archive=no_email", "ann.able@example.com", "");
    let row = &r.json()["value"][0];
    assert!(row.get("email_emailAddress").is_none() && row["personId"] == 11, "{row}");
    let r = search(&stub, "/pf/archive=key_string/archive=no_email", "ann.able@example.com", "");
    assert_eq!(r.json()["value"][0]["PrimaryKey"], "11");
    assert!(r.json()["value"][0].get("email_emailAddress").is_none());
    let r = search(&stub, "/pf/status=503/retry_after=1", "ann.able@example.com", "");
    assert_error(&r, 503, "SoStubException", "ErrorMessage", "stub status 503");
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(ids(&search(&stub, "/pf/status=503/archive=clean", "ann.able@example.com", "")), vec![11]);
    let r = search(&stub, "/pf/archive=sideways", "a@b", "");
    assert_error(&r, 400, "ArgumentException", "Message", "");
}

#[test]
fn sends_are_counted_per_person() {
    let stub = Stub::start();
    for id in [12, 12, 13] {
        let body = format!(r#"{{"PersonId":{id},"From":null,"To":"x@example.com","Subject":null}}"#);
        assert_eq!(once(&stub, &post(&ep("/sc"), &[BASIC, JSON_CT], &body)).status, 204);
    }
    once(&stub, &post(&ep("/sc/status=500"), &[BASIC, JSON_CT], "not json"));
    once(&stub, format!("GET /sc/api/v1/Person?$top=1 HTTP/1.1\r\nHost: stub.test\r\n{BASIC}\r\n\r\n").as_bytes());
    assert_eq!(stub.sends("/sc").into_iter().collect::<Vec<_>>(), vec![(12, 2), (13, 1)]);
    assert_eq!(stub.sends_total("/sc"), 4);
    let r = once(&stub, &get("/_stub/sends?prefix=/sc"));
    assert_eq!(r.json(), json!({"total": 4, "persons": {"12": 2, "13": 1}}));
    assert_eq!(stub.sends("/other"), Default::default());
}
