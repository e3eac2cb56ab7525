//! Request dispatch: the endpoint, the control endpoints and the tenant state.

use super::*;

pub(super) fn split_target(target: &str) -> (String, String) {
    // Absolute form (http://host/path) is reduced to its path.
    let mut t = target;
    for scheme in ["http://", "https://"] {
        if t.get(..scheme.len()).is_some_and(|p| p.eq_ignore_ascii_case(scheme)) {
            let rest = &t[scheme.len()..];
            t = match rest.find(['/', '?']) {
                Some(i) => &rest[i..],
                None => "/",
            };
            break;
        }
    }
    match t.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (t.to_string(), String::new()),
    }
}

pub(super) fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

pub(super) fn cut_body(mut body: Vec<u8>) -> Vec<u8> {
    body.truncate(RECORDED_BODY_CAP);
    body
}

pub(super) fn handle_request(sh: &Shared, c: &mut Conn) -> io::Result<Flow> {
    let closing = Ctx { minor: 1, keep_alive: false };
    let head = match read_head(c)? {
        HeadResult::Req(h) => h,
        HeadResult::Eof => return Ok(Flow::Abort),
        HeadResult::TooLarge => {
            return respond_error(
                c,
                &closing,
                BodyStyle::Json,
                431,
                "BadRequest",
                "stub: request head too large",
                false,
                &[],
            )
        }
        HeadResult::Bad(e) => {
            return respond_error(
                c,
                &closing,
                BodyStyle::Json,
                400,
                "BadRequest",
                &format!("stub: malformed request: {e}"),
                false,
                &[],
            )
        }
    };
    let keep_alive = if head.minor == 0 {
        head.has_token("connection", "keep-alive")
    } else {
        !head.has_token("connection", "close")
    };
    let (path, query) = split_target(&head.target);
    let record = |body: Vec<u8>| RecordedRequest {
        method: head.method.clone(),
        path: path.clone(),
        query: query.clone(),
        headers: head.headers.clone(),
        body: cut_body(body),
    };

    if !path.starts_with('/') {
        sh.record(record(Vec::new()));
        return respond_error(
            c,
            &closing,
            BodyStyle::Json,
            400,
            "BadRequest",
            &format!("stub: bad request target {:?}", head.target),
            false,
            &[],
        );
    }

    let framing = match framing(&head) {
        Ok(f) => f,
        Err(msg) => {
            if !path.starts_with("/_stub/") {
                sh.record(record(Vec::new()));
            }
            return respond_error(c, &closing, BodyStyle::Json, 400, "BadRequest", &msg, false, &[]);
        }
    };
    // A request with both Transfer-Encoding and Content-Length must not be reused.
    let keep_alive = keep_alive
        && !(matches!(framing, Framing::Chunked) && head.header("content-length").is_some());
    let ctx = Ctx { minor: head.minor, keep_alive };

    if path.starts_with("/_stub/") {
        let _ = match read_request_body(c, &head, framing) {
            Ok(b) => b,
            Err(e) => return body_error(c, e),
        };
        return control(sh, c, &ctx, &head.method, &path, &query);
    }

    if let Some(tenant) = path.strip_suffix(ENDPOINT) {
        return endpoint(sh, c, &ctx, &head, framing, tenant, &record);
    }

    // Not the endpoint: read the body, record, answer.
    let body = match read_request_body(c, &head, framing) {
        Ok(b) => b,
        Err(e) => {
            sh.record(record(Vec::new()));
            return body_error(c, e);
        }
    };
    sh.record(record(body.clone()));
    if let Some((prefix, rest)) = login::split_login(&path) {
        return login::serve(sh, c, &ctx, &head, prefix, rest, &body);
    }
    if let Some(cust) = path.strip_prefix("/api/state/") {
        if head.method != "GET" {
            return respond_error(
                c,
                &ctx,
                BodyStyle::Json,
                405,
                "MethodNotAllowed",
                "stub: use GET",
                false,
                &[("Allow".into(), "GET".into())],
            );
        }
        return tenant_state(sh, c, &ctx, cust);
    }
    respond_error(
        c,
        &ctx,
        BodyStyle::Json,
        404,
        "NotFound",
        &format!("stub: no such endpoint: {path}"),
        false,
        &[],
    )
}

pub(super) fn expects_continue(head: &Head, f: Framing) -> bool {
    head.minor >= 1
        && head.header("expect").is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"))
        && !matches!(f, Framing::Length(0))
}

pub(super) fn read_request_body(c: &mut Conn, head: &Head, f: Framing) -> Result<Vec<u8>, BodyError> {
    if expects_continue(head, f) {
        if let Framing::Length(n) = f {
            if n > MAX_BODY_BYTES {
                return Err(BodyError::TooLarge);
            }
        }
        c.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    read_body(c, f)
}

pub(super) fn body_error(c: &mut Conn, e: BodyError) -> io::Result<Flow> {
    let closing = Ctx { minor: 1, keep_alive: false };
    match e {
        BodyError::Io(e) => Err(e),
        BodyError::Eof => Ok(Flow::Abort),
        BodyError::TooLarge => respond_error(
            c,
            &closing,
            BodyStyle::Json,
            413,
            "BadRequest",
            "stub: request body too large",
            false,
            &[],
        ),
        BodyError::Bad(msg) => {
            respond_error(c, &closing, BodyStyle::Json, 400, "BadRequest", &msg, false, &[])
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn endpoint(
    sh: &Shared,
    c: &mut Conn,
    ctx: &Ctx,
    head: &Head,
    framing: Framing,
    tenant: &str,
    record: &dyn Fn(Vec<u8>) -> RecordedRequest,
) -> io::Result<Flow> {
    let d = match parse_directives(tenant) {
        Ok(d) => d,
        Err(msg) => {
            let body = match read_request_body(c, head, framing) {
                Ok(b) => b,
                Err(e) => {
                    sh.record(record(Vec::new()));
                    return body_error(c, e);
                }
            };
            sh.record(record(body));
            return respond_error(c, ctx, BodyStyle::Json, 400, "ArgumentException", &msg, true, &[]);
        }
    };
    let active = match d.fail_first {
        Some(k) => sh.fail_first_active(tenant, k),
        None => true,
    };
    let act = if active { d.act.clone() } else { Behaviour::default() };

    if act.fault == Some(Fault::DropBefore) {
        sh.record(record(Vec::new()));
        return Ok(Flow::Abort);
    }

    let body = match read_request_body(c, head, framing) {
        Ok(b) => b,
        Err(e) => {
            sh.record(record(Vec::new()));
            return body_error(c, e);
        }
    };
    let validation = validate(sh, head, &body, d.auth);
    let echo = if d.echo_credentials { echoed_credentials(head, &body) } else { String::new() };
    sh.record(record(body));

    if let Some(ms) = act.delay_ms {
        thread::sleep(Duration::from_millis(ms));
    }

    match act.fault {
        Some(Fault::Hang) => {
            hang_until_closed(c);
            return Ok(Flow::Abort);
        }
        Some(Fault::DropAfter) => return Ok(Flow::Close),
        Some(Fault::DropReset) => {
            reset_connection(&c.stream);
            return Ok(Flow::Abort);
        }
        Some(Fault::DropDuring) => {
            let full = format!(
                "HTTP/1.1 204 No Content\r\nContent-Type: {JSON_CT}\r\n\r\n"
            );
            let half = &full.as_bytes()[..full.len() / 2];
            let _ = c.write_all(half);
            return Ok(Flow::Close);
        }
        Some(Fault::Garbage) => {
            let _ = c.write_all(b"this is not HTTP\r\n\r\n");
            return Ok(Flow::Close);
        }
        Some(Fault::Truncate) => {
            let msg = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {JSON_CT}\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n0123456789"
            );
            let _ = c.write_all(msg.as_bytes());
            return Ok(Flow::Close);
        }
        Some(Fault::DropBefore) | None => {}
    }

    let person_id = match validation {
        Ok(p) => p,
        Err(r) => {
            let msg = format!("{}{echo}", r.msg);
            return respond_error(c, ctx, d.body_style, r.status, r.etype, &msg, r.message_key, &r.extra)
        }
    };

    let mut extra: Vec<(String, String)> = Vec::new();
    if let Some(l) = &act.location {
        extra.push(("Location".into(), l.clone()));
    }
    if let Some(r) = &act.retry_after {
        extra.push(("Retry-After".into(), r.clone()));
    }

    if let Some(status) = act.status {
        let (etype, msg) = if status == 404 {
            ("SoNotFoundException", format!("Person id {person_id} not found"))
        } else {
            ("SoStubException", format!("stub status {status}"))
        };
        let msg = format!("{msg}{echo}");
        return respond_error(c, ctx, d.body_style, status, etype, &msg, false, &extra);
    }

    if let Some(n) = act.ok_body {
        return stream_ok_body(c, ctx, n, &extra);
    }

    if let Some(n) = act.header_flood {
        let mut w = BufWriter::with_capacity(64 << 10, &c.stream);
        write!(w, "HTTP/1.1 204 No Content\r\nContent-Type: {JSON_CT}\r\n")?;
        for (k, v) in &extra {
            write!(w, "{k}: {v}\r\n")?;
        }
        for i in 0..n {
            write!(w, "X-Flood-{i}: flood-value-{i}-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n")?;
        }
        w.write_all(ctx.connection_header().as_bytes())?;
        w.write_all(b"\r\n")?;
        w.flush()?;
        return Ok(ctx.flow());
    }

    if d.null_body {
        // The reference page's literal sample: a 204 carrying `null`. Bytes after a 204
        // head are not part of any message, so the connection is closed after them.
        let mut out = format!("HTTP/1.1 204 No Content\r\nContent-Type: {JSON_CT}\r\n");
        for (k, v) in &extra {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("Connection: close\r\n\r\nnull");
        c.write_all(out.as_bytes())?;
        return Ok(Flow::Close);
    }

    respond(c, ctx, 204, Some(JSON_CT), &extra, b"")
}

pub(super) fn stream_ok_body(c: &mut Conn, ctx: &Ctx, n: u64, extra: &[(String, String)]) -> io::Result<Flow> {
    let mut head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {n}\r\n"
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(ctx.connection_header());
    head.push_str("\r\n");
    if c.write_all(head.as_bytes()).is_err() {
        return Ok(Flow::Abort);
    }
    let mut left = n;
    while left > 0 {
        let k = left.min(STREAM_CHUNK as u64) as usize;
        if c.write_all(&FILL[..k]).is_err() {
            // The client hung up: stop quietly.
            return Ok(Flow::Abort);
        }
        left -= k as u64;
    }
    Ok(ctx.flow())
}

pub(super) fn control(
    sh: &Shared,
    c: &mut Conn,
    ctx: &Ctx,
    method: &str,
    path: &str,
    query: &str,
) -> io::Result<Flow> {
    let want = |m: &str| method == m;
    let wrong_method = |c: &mut Conn, allow: &str| {
        respond_error(
            c,
            ctx,
            BodyStyle::Json,
            405,
            "MethodNotAllowed",
            &format!("stub: use {allow}"),
            false,
            &[("Allow".into(), allow.into())],
        )
    };
    let prefix = query_param(query, "prefix").unwrap_or_default();
    match path {
        "/_stub/requests" => {
            if !want("GET") {
                return wrong_method(c, "GET");
            }
            let list: Vec<Value> = lock(&sh.log)
                .iter()
                .filter(|r| r.path.starts_with(&prefix))
                .map(RecordedRequest::to_json)
                .collect();
            let body = serde_json::to_vec(&Value::Array(list)).unwrap_or_else(|_| b"[]".to_vec());
            respond(c, ctx, 200, Some(JSON_CT), &[], &body)
        }
        "/_stub/count" => {
            if !want("GET") {
                return wrong_method(c, "GET");
            }
            let body = json!({ "count": sh.count(&prefix) }).to_string();
            respond(c, ctx, 200, Some(JSON_CT), &[], body.as_bytes())
        }
        "/_stub/reset" => {
            if !want("POST") {
                return wrong_method(c, "POST");
            }
            sh.reset();
            respond(c, ctx, 200, Some(JSON_CT), &[], br#"{"reset":true}"#)
        }
        "/_stub/refused_port" => {
            if !want("GET") {
                return wrong_method(c, "GET");
            }
            // Bound, then released: nothing listens there.
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_or(0, |a| a.port());
            respond(c, ctx, 200, Some(JSON_CT), &[], json!({ "port": port }).to_string().as_bytes())
        }
        "/_stub/unaccepting" => {
            if !want("GET") {
                return wrong_method(c, "GET");
            }
            let body = json!({ "port": sh.unaccepting_port() }).to_string();
            respond(c, ctx, 200, Some(JSON_CT), &[], body.as_bytes())
        }
        "/_stub/tls" => {
            if !want("GET") {
                return wrong_method(c, "GET");
            }
            match sh.tls_state() {
                Ok(v) => respond(c, ctx, 200, Some(JSON_CT), &[], v.to_string().as_bytes()),
                Err(e) => respond_error(c, ctx, BodyStyle::Json, 404, "NotFound", &e, false, &[]),
            }
        }
        "/_stub/connections" => {
            if !want("GET") {
                return wrong_method(c, "GET");
            }
            let body = json!({
                "open": lock(&sh.conns).len(),
                "accepted": sh.next_conn.load(Ordering::SeqCst),
            })
            .to_string();
            respond(c, ctx, 200, Some(JSON_CT), &[], body.as_bytes())
        }
        _ => respond_error(
            c,
            ctx,
            BodyStyle::Json,
            404,
            "NotFound",
            &format!("stub: no such control endpoint: {path}"),
            false,
            &[],
        ),
    }
}

pub(super) fn tenant_state(sh: &Shared, c: &mut Conn, ctx: &Ctx, cust: &str) -> io::Result<Flow> {
    let (state, running) = match cust {
        "Cust12345" => ("Running", true),
        "CustMaint" => ("InMaintenance", false),
        "CustSusp" => ("Suspended", false),
        "CustOM" => ("OnlineMaintenance", true),
        _ => {
            return respond_error(
                c,
                ctx,
                BodyStyle::Json,
                404,
                "NotFound",
                &format!("stub: unknown tenant {cust:?}"),
                false,
                &[],
            )
        }
    };
    let root = format!("http://127.0.0.1:{}/{}", sh.port, cust);
    let body = json!({
        "ContextIdentifier": cust,
        "Endpoint": root,
        "State": state,
        "IsRunning": running,
        "ValidUntil": rfc3339_utc(SystemTime::now() + Duration::from_secs(3600)),
        "Api": format!("{root}/api"),
    })
    .to_string();
    respond(c, ctx, 200, Some(JSON_CT), &[], body.as_bytes())
}

// ---------------------------------------------------------------------------------------
