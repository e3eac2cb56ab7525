//! The Person archive: `GET {tenant}/api/v1/Person` with `$select`, `$filter ... is`,
//! `$entities`, `$top` and `$jsonSafe`, over a small built-in directory
//! (docs/stub-protocol.md, "The Person archive").

use super::*;

/// The archive's path below the tenant path.
pub const PERSON_ARCHIVE: &str = "/api/v1/Person";

/// The columns the stub's archive knows.
pub const COLUMNS: [&str; 3] = ["personId", "fullName", "email/emailAddress"];

/// One person of the built-in directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryPerson {
    pub id: i64,
    pub full_name: String,
    /// `person` or `retiredPerson`.
    pub entity: &'static str,
    /// Every address of the person, as stored (a row per address).
    pub emails: Vec<String>,
}

fn person(id: i64, name: &str, entity: &'static str, emails: &[&str]) -> DirectoryPerson {
    DirectoryPerson { id, full_name: name.into(), entity, emails: emails.iter().map(|e| e.to_string()).collect() }
}

/// The built-in directory, plus `crowd` persons sharing `crowd@example.com`
/// (ids 100001 and up).
pub fn directory(crowd: u64) -> Vec<DirectoryPerson> {
    let mut d = vec![
        person(11, "Ann Able", "person", &["ann.able@example.com"]),
        // Two persons sharing one address, stored in two spellings.
        person(12, "Bo Shared", "person", &["shared@example.com"]),
        person(13, "Cy Shared", "person", &["Shared@Example.com"]),
        // A retired person alone on an address.
        person(14, "Dee Retired", "retiredPerson", &["retired@example.com"]),
        // Mixed case as stored.
        person(15, "Eve Mixed", "person", &["Eve.Mixed@Example.COM"]),
        // An apostrophe.
        person(16, "Finn O'Brien", "person", &["finn.o'brien@example.com"]),
        // One person with the same address twice (two rows, one person).
        person(17, "Gus Twice", "person", &["gus@example.com", "GUS@example.com"]),
        // A plus sign (a `+` left unencoded in a query reads as a space).
        person(18, "Hal Plus", "person", &["hal+news@example.com"]),
        // A retired person and an active one on one address: only the active one is a person.
        person(19, "Ida Retired", "retiredPerson", &["ida@example.com"]),
        person(20, "Ida Active", "person", &["ida@example.com"]),
        // Non-ASCII.
        person(21, "Jö Ümlaut", "person", &["jö@exämple.com"]),
    ];
    for i in 1..=crowd {
        d.push(DirectoryPerson {
            id: 100_000 + i as i64,
            full_name: format!("Crowd Member {i}"),
            entity: "person",
            emails: vec!["crowd@example.com".into()],
        });
    }
    d
}

/// A query value as the service's framework reads it: `+` is a space, then `%XX`.
pub fn decode_query_component(v: &str) -> String {
    percent_decode(&v.replace('+', " "))
}

/// The query's parameters, names and values decoded.
pub fn query_params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode_query_component(k), decode_query_component(v))
        })
        .collect()
}

/// Reads `email/emailAddress is '<string>'` (OData quoting: `''` is one `'`); returns the
/// string. Anything else is refused with the reason.
pub fn parse_email_filter(filter: &str) -> Result<String, String> {
    let f = filter.trim_start_matches(' ');
    let (column, rest) = f.split_once(' ').ok_or("stub: $filter must be `column operator 'value'`")?;
    if column != "email/emailAddress" {
        return Err(format!("stub: the archive filters only on email/emailAddress, not {column:?}"));
    }
    let rest = rest.trim_start_matches(' ');
    let (op, rest) = rest.split_once(' ').ok_or("stub: $filter must be `column operator 'value'`")?;
    match op {
        "is" => {}
        "begins" | "between" | "contains" | "notBegins" | "notContains" | "isNot" => {
            return Err(format!("stub: the operator {op:?} is SuperOffice's, but the stub plays only `is`"))
        }
        _ => return Err(format!("stub: unknown operator {op:?}")),
    }
    let rest = rest.trim_start_matches(' ');
    let mut chars = rest.chars();
    if chars.next() != Some('\'') {
        return Err("stub: the value must be a quoted string".into());
    }
    let mut value = String::new();
    loop {
        match chars.next() {
            None => return Err("stub: the quoted string is not closed".into()),
            Some('\'') => {
                let after = chars.as_str();
                if let Some(more) = after.strip_prefix('\'') {
                    value.push('\'');
                    chars = more.chars();
                } else if after.trim_matches(' ').is_empty() {
                    return Ok(value);
                } else {
                    return Err(format!("stub: unexpected text after the quoted string: {after:?}"));
                }
            }
            Some(c) => value.push(c),
        }
    }
}

/// The `$filter` of a raw query string, read as the archive reads it (for the tests of
/// the client's quoting).
pub fn read_filter_value(query: &str) -> Result<String, String> {
    let params = query_params(query);
    let filter = params.iter().find(|(k, _)| k == "$filter").ok_or("stub: no $filter")?;
    parse_email_filter(&filter.1)
}

/// How the stub compares addresses: trimmed and case-insensitive (as the service's
/// database collation does).
fn same_address(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// A column name made JSON-safe: every character but letters, digits and `_` becomes `_`.
pub fn json_safe(column: &str) -> String {
    column.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// The archive's answer to a query: `Ok(JSON)` or `Err(message)` for a 400.
pub(super) fn answer(query: &str, faults: &ArchiveFaults, port: u16, tenant: &str) -> Result<Value, String> {
    let params = query_params(query);
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let select: Vec<String> = match get("$select") {
        Some(s) => s.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
        None => vec!["personId".into(), "fullName".into()],
    };
    for c in &select {
        if !COLUMNS.contains(&c.as_str()) {
            return Err(format!("stub: unknown column {c:?} in $select"));
        }
    }
    let entities: Vec<String> = match get("$entities") {
        Some(e) => e.split(',').map(|c| c.trim().to_string()).collect(),
        None => vec!["person".into(), "retiredPerson".into()],
    };
    for e in &entities {
        if e != "person" && e != "retiredPerson" {
            return Err(format!("stub: unknown entity {e:?} in $entities (person, retiredPerson)"));
        }
    }
    let top = match get("$top") {
        Some(t) => Some(t.trim().parse::<usize>().map_err(|_| format!("stub: $top must be a number, got {t:?}"))?),
        None => None,
    };
    let json_safe_names = match get("$jsonSafe").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(format!("stub: $jsonSafe must be true or false, got {other:?}")),
    };
    let wanted = match get("$filter") {
        Some(f) => Some(parse_email_filter(&f)?),
        None => None,
    };
    let mut rows = Vec::new();
    for p in directory(faults.crowd) {
        if !entities.iter().any(|e| e == p.entity) {
            continue;
        }
        for email in &p.emails {
            let hit = faults.filter_ignored || wanted.as_deref().is_none_or(|w| same_address(w, email));
            if !hit {
                continue;
            }
            let mut row = serde_json::Map::new();
            row.insert(
                "PrimaryKey".into(),
                if faults.key_string { Value::String(p.id.to_string()) } else { json!(p.id) },
            );
            row.insert("EntityName".into(), json!(p.entity));
            for c in &select {
                let value = match c.as_str() {
                    "personId" => json!(p.id),
                    "fullName" => json!(p.full_name),
                    _ if faults.no_email => continue,
                    _ => json!(email),
                };
                let name = if json_safe_names && !faults.jsonsafe_ignored { json_safe(c) } else { c.clone() };
                row.insert(name, value);
            }
            rows.push(Value::Object(row));
        }
    }
    let total = rows.len();
    if let Some(t) = top {
        rows.truncate(t);
    }
    let next = if rows.len() < total {
        Value::String(format!("http://127.0.0.1:{port}{tenant}{PERSON_ARCHIVE}?$skip={}", rows.len()))
    } else {
        Value::Null
    };
    Ok(json!({
        "odata.metadata": format!("http://127.0.0.1:{port}{tenant}/api/v1/archive/$metadata"),
        "odata.nextLink": next,
        "value": rows,
    }))
}

/// Serves `GET {tenant}/api/v1/Person`.
#[allow(clippy::too_many_arguments)]
pub(super) fn serve(
    sh: &Shared,
    c: &mut Conn,
    ctx: &Ctx,
    head: &Head,
    framing: Framing,
    tenant: &str,
    query: &str,
    record: &dyn Fn(Vec<u8>) -> RecordedRequest,
) -> io::Result<Flow> {
    let body = match read_request_body(c, head, framing) {
        Ok(b) => b,
        Err(e) => {
            sh.record(record(Vec::new()));
            return body_error(c, e);
        }
    };
    sh.record(record(body));
    let d = match parse_directives(tenant) {
        Ok(d) => d,
        Err(msg) => return respond_error(c, ctx, BodyStyle::Json, 400, "ArgumentException", &msg, true, &[]),
    };
    let active = !d.archive.clean
        && match d.fail_first {
            Some(k) => sh.fail_first_active(tenant, k),
            None => true,
        };
    let act = if active { d.act.clone() } else { Behaviour::default() };
    if let Some(ms) = act.delay_ms {
        thread::sleep(Duration::from_millis(ms));
    }
    if let Some(flow) = transport_fault(c, act.fault) {
        return Ok(flow);
    }
    if head.method != "GET" {
        return respond_error(
            c,
            ctx,
            d.body_style,
            405,
            "MethodNotAllowed",
            &format!("stub: method {} is not allowed here, use GET", head.method),
            false,
            &[("Allow".into(), "GET".into())],
        );
    }
    match credentials(sh, head) {
        Some(kind) if d.auth.is_none() || d.auth == Some(kind) => {}
        _ => {
            return respond_error(c, ctx, d.body_style, 401, "UnauthorizedAccessException", "Invalid credentials", false, &[])
        }
    }
    let doc = match answer(query, &d.archive, sh.port, tenant) {
        Ok(doc) => doc,
        Err(msg) => return respond_error(c, ctx, d.body_style, 400, "ArgumentException", &msg, true, &[]),
    };
    let mut extra: Vec<(String, String)> = Vec::new();
    if let Some(l) = &act.location {
        extra.push(("Location".into(), l.clone()));
    }
    if let Some(r) = &act.retry_after {
        extra.push(("Retry-After".into(), r.clone()));
    }
    if let Some(status) = act.status {
        return respond_error(c, ctx, d.body_style, status, "SoStubException", &format!("stub status {status}"), false, &extra);
    }
    let body = serde_json::to_vec(&doc).unwrap_or_default();
    respond(c, ctx, 200, Some(JSON_CT), &extra, &body)
}

/// The sends the endpoint received under `prefix`, by the body's `PersonId` (every
/// request to the endpoint counts, whatever it was answered); `total` counts those
/// without a readable `PersonId` too.
pub(super) fn sends(sh: &Shared, prefix: &str) -> (BTreeMap<i64, usize>, usize) {
    let mut by_person = BTreeMap::new();
    let mut total = 0;
    for r in lock(&sh.log).iter().filter(|r| r.path.starts_with(prefix) && r.path.ends_with(ENDPOINT)) {
        total += 1;
        let id = r.body_json().and_then(|v| {
            v.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case("PersonId")).and_then(|(_, v)| v.as_i64())
        });
        if let Some(id) = id {
            *by_person.entry(id).or_insert(0) += 1;
        }
    }
    (by_person, total)
}
