//! Property tests (proptest, stable Rust): the parsers and the C ABI setters with
//! arbitrary input. The same properties are fuzzed with coverage guidance by
//! `fuzz/` (cargo-fuzz); these run in every `cargo test`.

use std::ffi::{CStr, CString};
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use superoffice::error::bound_message;
use superoffice::error_body::{excerpt, parse};
use superoffice::ffi::errors::{so_last_error_code, so_last_error_message};
use superoffice::ffi::options::*;
use superoffice::ffi::so_result;
use superoffice::request::PreparedRequest;
use superoffice::retry::{backoff, parse_retry_after, BACKOFF_CAP};
use superoffice::settings::{check_header_value, Auth, BaseUrl, Settings};
use superoffice::person::{odata_string, read_answer, search_query};
use superoffice::PasswordEmail;

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..300)
}

/// Strings that look like URLs often enough to get past the first checks.
fn url_like() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(vec!["http://", "https://", "HTTPS://", "ftp://", "", "http:/"]);
    let userinfo = prop::sample::select(vec!["", "u:p@", "us@er:pw@", "u:p/w@"]);
    let host = prop::sample::select(vec!["sod.superoffice.com", "127.0.0.1", "[::1]", "", "h"]);
    let port = prop::sample::select(vec!["", ":8080", ":0", ":99999", ":x", ":"]);
    let path = prop::collection::vec(any::<char>(), 0..20).prop_map(|v| v.into_iter().collect::<String>());
    let suffix = prop::sample::select(vec!["", "/", "/api", "/api/", "/API", "?q=1", "#f"]);
    (scheme, userinfo, host, port, path, suffix).prop_map(|(s, u, h, p, path, x)| format!("{s}{u}{h}{p}/{path}{x}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn base_url_parse_never_panics_and_accepted_urls_form_a_request(url in prop_oneof![url_like(), any::<String>()]) {
        match BaseUrl::parse(&url) {
            Ok(base) => {
                prop_assert!(base.scheme == "http" || base.scheme == "https");
                prop_assert!(!base.authority.is_empty() && !base.authority.contains('@'));
                prop_assert!(!base.path.ends_with('/'));
                let s = Settings::new(&url).unwrap();
                prop_assert!(PreparedRequest::new(&s).is_ok(), "{url:?}");
            }
            Err(e) => {
                prop_assert!(e.message.len() <= 4095);
                prop_assert!(!e.message.contains('\n') && !e.message.contains('\r'));
                if let (Some(s), Some(at)) = (url.find("://"), url.rfind('@')) {
                    if at > s + 3 && !url[s + 3..at].chars().all(|c| c == '*') {
                        prop_assert!(!e.message.contains(&url[s..=at]), "{url:?} -> {}", e.message);
                    }
                }
            }
        }
    }

    #[test]
    fn error_body_parse_never_panics_and_bounds_its_fields(body in prop_oneof![
        bytes(),
        (any::<String>(), any::<String>(), 0usize..200).prop_map(|(t, m, cut)| {
            let b = serde_json::json!({"Error": true, "ErrorType": t, "ErrorMessage": m}).to_string().into_bytes();
            let cut = b.len().saturating_sub(cut);
            b[..cut].to_vec()
        }),
    ]) {
        if let Some(p) = parse(&body) {
            for f in [&p.error_type, &p.message].into_iter().flatten() {
                prop_assert!(!f.is_empty() && f.chars().count() <= 1024);
                prop_assert!(!f.chars().any(char::is_control));
            }
        }
        if let Some(x) = excerpt(&body) {
            prop_assert!(x.chars().count() <= 200 && !x.contains('\n'));
        }
    }

    #[test]
    fn retry_after_parse_never_panics(v in prop_oneof![any::<String>(), prop::collection::vec(b'0'..=b'9', 1..25).prop_map(|v| String::from_utf8(v).unwrap()), Just("Sun, 06 Nov 1994 08:49:37 GMT".to_string())]) {
        let now = SystemTime::now();
        if let Some(d) = parse_retry_after(&v, now) {
            if v.trim().bytes().all(|b| b.is_ascii_digit()) {
                if let Ok(n) = v.trim().parse::<u64>() {
                    prop_assert_eq!(d, Duration::from_secs(n));
                }
            }
        }
    }

    #[test]
    fn backoff_is_bounded(attempt in any::<u32>()) {
        prop_assert!(backoff(attempt) <= BACKOFF_CAP);
    }

    #[test]
    fn messages_are_bounded_on_char_boundaries(s in any::<String>(), n in 0usize..3000) {
        let m = bound_message(s.repeat(n % 7 + 1).chars().cycle().take(n * 3).collect());
        prop_assert!(m.len() <= 4095);
    }

    #[test]
    fn header_values_never_carry_control_characters(v in any::<String>()) {
        if check_header_value("x", &v).is_ok() {
            prop_assert!(!v.is_empty() && !v.chars().any(char::is_control));
            // ... so a ticket made of it always forms a header.
            let mut s = Settings::builder("http://127.0.0.1:9/x").unwrap();
            s.auth(Auth::ticket(&v).unwrap());
            s.app_token(Some(&v)).unwrap();
            prop_assert!(superoffice::Client::new(&s.build()).is_ok(), "{v:?}");
        }
    }

    #[test]
    fn the_json_body_round_trips(id in 1i32.., from in proptest::option::of(any::<String>()), to in proptest::option::of(any::<String>()), subject in proptest::option::of(any::<String>())) {
        let e = PasswordEmail { person_id: id, from: from.as_deref(), to: to.as_deref(), subject: subject.as_deref() };
        let v: serde_json::Value = serde_json::from_slice(&e.json_body().unwrap()).unwrap();
        prop_assert_eq!(v["PersonId"].as_i64(), Some(i64::from(id)));
        prop_assert_eq!(v["From"].as_str(), from.as_deref());
        prop_assert_eq!(v["To"].as_str(), to.as_deref());
        prop_assert_eq!(v["Subject"].as_str(), subject.as_deref());
    }

    #[test]
    fn c_setters_take_any_bytes(values in prop::collection::vec(prop::collection::vec(1u8..=255, 0..64), 12), n in any::<u32>()) {
        let c: Vec<CString> = values.into_iter().map(|v| CString::new(v).unwrap()).collect();
        let o = so_options_new(c"https://sod.superoffice.com/Cust12345".as_ptr());
        prop_assert!(!o.is_null());
        let calls: [&dyn Fn() -> so_result; 14] = [
            &|| so_options_set_basic_auth(o, c[0].as_ptr(), c[1].as_ptr()),
            &|| so_options_set_ticket(o, c[2].as_ptr()),
            &|| so_options_set_bearer_token(o, c[3].as_ptr()),
            &|| so_options_set_app_token(o, c[4].as_ptr()),
            &|| so_options_set_xsrf_token(o, c[5].as_ptr()),
            &|| so_options_set_language(o, c[6].as_ptr()),
            &|| so_options_set_culture(o, c[7].as_ptr()),
            &|| so_options_set_timezone(o, c[8].as_ptr()),
            &|| so_options_set_select(o, c[9].as_ptr()),
            &|| so_options_set_proxy(o, c[10].as_ptr()),
            &|| so_options_set_timeout_ms(o, n, n.rotate_left(7)),
            &|| so_options_set_max_retries(o, n % 16),
            &|| {
                let x = so_options_new(c[11].as_ptr());
                so_options_free(x);
                if x.is_null() { so_last_error_code() } else { so_result::SO_OK }
            },
            &|| {
                let cl = superoffice::ffi::client::so_client_new(o);
                superoffice::ffi::client::so_client_free(cl);
                if cl.is_null() { so_last_error_code() } else { so_result::SO_OK }
            },
        ];
        for (i, call) in calls.iter().enumerate() {
            let r = call();
            prop_assert!(
                matches!(r, so_result::SO_OK | so_result::SO_ERR_INVALID_ARGUMENT),
                "call {i}: {r:?}"
            );
            let msg = unsafe { CStr::from_ptr(so_last_error_message()) }.to_string_lossy().into_owned();
            prop_assert_eq!(r == so_result::SO_OK, msg.is_empty(), "call {}: {}", i, msg);
            prop_assert!(msg.len() <= 4095);
        }
        so_options_free(o);
    }

    #[test]
    fn a_person_search_answer_is_trusted_only_when_every_row_is_the_address(rows in prop::collection::vec(row_like(), 0..8), junk in bytes()) {
        let address = "kari@example.com";
        let body = serde_json::json!({"odata.metadata": "x", "value": rows}).to_string();
        for input in [body.as_bytes(), &junk[..]] {
            match read_answer(input, address, "GET x") {
                Ok(found) => {
                    for p in &found {
                        prop_assert!(p.person_id > 0);
                        prop_assert_eq!(p.email.trim().to_lowercase(), address);
                    }
                    let mut ids: Vec<i32> = found.iter().map(|p| p.person_id).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    prop_assert_eq!(ids.len(), found.len());
                }
                Err(e) => prop_assert!(e.message.len() <= 4095 && e.delivery == superoffice::Delivery::NotSent),
            }
        }
    }

    #[test]
    fn odata_quoting_reads_back_exactly(text in prop_oneof![any::<String>(), address_like()]) {
        // The quoting alone: any string at all.
        let filter = format!("email/emailAddress is {}", odata_string(&text));
        prop_assert_eq!(superoffice_stub::archive::parse_email_filter(&filter), Ok(text.clone()));
        // The whole query: refused, or read back by the stub's parser as the address given
        // (trimmed), in a URL the HTTP library accepts.
        match search_query(&text) {
            Ok(query) => {
                prop_assert_eq!(superoffice_stub::archive::read_filter_value(&query), Ok(text.trim().to_string()));
                let url = format!("http://127.0.0.1/Cust1/api/v1/Person?{query}");
                prop_assert!(url.parse::<ureq::http::Uri>().is_ok(), "{url}");
            }
            Err(e) => {
                prop_assert_eq!(e.kind, superoffice::ErrorKind::InvalidArgument);
                let t = text.trim();
                prop_assert!(!t.contains('@') || t.chars().any(char::is_control) || t.chars().count() > 254, "{text:?}");
            }
        }
    }
}

/// Rows of a Person archive answer: right and wrong entity names, keys as numbers and
/// strings, the address or another, with `/` or `_` keys, or none.
fn row_like() -> impl Strategy<Value = serde_json::Value> {
    let entity = prop::sample::select(vec!["person", "retiredPerson", "contact", ""]);
    let key = prop_oneof![(1i64..5).prop_map(serde_json::Value::from), (1i64..5).prop_map(|n| serde_json::Value::from(n.to_string())), Just(serde_json::Value::Null), Just(serde_json::Value::from("x"))];
    let email = prop::sample::select(vec!["kari@example.com", " KARI@Example.com ", "other@example.com", ""]);
    let column = prop::sample::select(vec!["email_emailAddress", "email/emailAddress", "emailAddress"]);
    (entity, key, email, column).prop_map(|(entity, key, email, column)| {
        serde_json::json!({"PrimaryKey": key, "EntityName": entity, "fullName": "N", column: email})
    })
}

/// Strings that look like addresses often enough: quotes, `+`, `%`, `&`, `#`, spaces.
fn address_like() -> impl Strategy<Value = String> {
    let part = prop::collection::vec(prop::sample::select(vec!["a", "'", "''", "+", "%", "%27", "&", "#", "=", " ", "é", "/", ",", "@", "\\", "\"", "$"]), 0..12)
        .prop_map(|v| v.concat());
    (part.clone(), part).prop_map(|(a, b)| format!("{a}@{b}"))
}
