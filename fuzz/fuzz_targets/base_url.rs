//! Base URL parsing (`settings::BaseUrl::parse`) and the request URL built from it.
//!
//! Invariants: never panics; an accepted URL is http or https, has a host (with a valid
//! port, if any) and no user information, and the library can always build the request
//! URL from it (with any `$select`); a refused one's message is one line and never holds
//! the user information it had.
#![no_main]

use libfuzzer_sys::fuzz_target;
use superoffice::settings::{BaseUrl, Settings};

fuzz_target!(|data: &[u8]| {
    // Optional `$select` after a NUL.
    let (url, select) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(url) = std::str::from_utf8(url) else { return };
    match BaseUrl::parse(url) {
        Ok(base) => {
            assert!(base.scheme == "http" || base.scheme == "https", "{base:?}");
            assert!(!base.authority.is_empty() && !base.authority.contains('@'), "{base:?}");
            assert!(!base.path.ends_with('/'), "{base:?}");
            BaseUrl::parse(&base.root()).expect("the normal form parses");
            let mut builder = Settings::builder(url).expect("Settings::builder agrees with BaseUrl::parse");
            if let Some(sel) = select.and_then(|s| std::str::from_utf8(s).ok()) {
                if builder.select(Some(sel)).is_err() {
                    return;
                }
            }
            let settings = builder.build();
            if let Err(e) = superoffice::request::PreparedRequest::new(&settings) {
                panic!("accepted base {url:?} (select {:?}) cannot form a request: {}", settings.select(), e.message);
            }
        }
        Err(e) => {
            assert_eq!(e.kind, superoffice::ErrorKind::InvalidArgument);
            assert!(e.message.len() <= 4095);
            assert!(!e.message.contains(['\r', '\n']), "{:?}", e.message);
            // Whatever stands between "://" and the last '@' may be a password: it must
            // not appear in its place (nor the part after an earlier '@').
            if let (Some(s), Some(first), Some(at)) = (url.find("://"), url.find('@'), url.rfind('@')) {
                if at > s + 3 && !url[s + 3..at].chars().all(|c| c == '*') {
                    assert!(!e.message.contains(&url[s..=at]), "{url:?} -> {}", e.message);
                    if first > s && first < at && at - first > 3 {
                        assert!(!e.message.contains(&url[first..=at]), "{url:?} -> {}", e.message);
                    }
                }
            }
        }
    }
});
