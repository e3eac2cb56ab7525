//! SuperOffice error body parsing (`error_body::parse`, `error_body::excerpt`).
//!
//! Invariants: never panics, whatever the bytes (JSON or not, cut anywhere); fields are
//! at most 1024 characters with no control characters; an excerpt is one line of at
//! most 200 characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use superoffice::error_body::{excerpt, parse};

fn check(body: &[u8]) {
    if let Some(p) = parse(body) {
        assert!(p.error_type.is_some() || p.message.is_some());
        for f in [&p.error_type, &p.message].into_iter().flatten() {
            assert!(!f.is_empty() && f.chars().count() <= 1024, "{f:?}");
            assert!(!f.chars().any(char::is_control), "{f:?}");
        }
    }
    if let Some(x) = excerpt(body) {
        assert!(!x.is_empty() && x.chars().count() <= 200);
        assert!(!x.contains('\n') && !x.contains('\r'));
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    // The same body cut short, as at the read bound.
    if data.len() > 1 {
        check(&data[..data.len() / 2]);
    }
});
