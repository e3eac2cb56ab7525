//! ureq is pinned with `=` to the exact version in Cargo.lock: the name resolution seam
//! relies on ureq's `unversioned` module, which carries no semver promise. Loosening the
//! pin (or letting it drift from the lock file) fails here.

use std::fs;
use std::path::Path;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The version requirement of `name` under `[dependencies]` in Cargo.toml.
fn manifest_requirement(manifest: &str, name: &str) -> Option<String> {
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if !in_deps || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        if key.trim() != name {
            continue;
        }
        let value = value.trim();
        if let Some(rest) = value.strip_prefix('"') {
            return rest.split('"').next().map(str::to_owned);
        }
        let after = value.split_once("version")?.1;
        let after = after.trim_start().strip_prefix('=')?.trim_start().strip_prefix('"')?;
        return after.split('"').next().map(str::to_owned);
    }
    None
}

/// The versions of package `name` recorded in Cargo.lock.
fn locked_versions(lock: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = lock.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{name}\"") {
            if let Some(v) = lines.peek().and_then(|l| l.trim().strip_prefix("version = \"")) {
                out.push(v.trim_end_matches('"').to_owned());
            }
        }
    }
    out
}

#[test]
fn ureq_is_pinned_exactly_to_the_locked_version() {
    let manifest = fs::read_to_string(manifest_dir().join("Cargo.toml")).unwrap();
    let lock = fs::read_to_string(manifest_dir().join("Cargo.lock")).unwrap();
    let req = manifest_requirement(&manifest, "ureq").expect("ureq under [dependencies]");
    let pinned = req
        .strip_prefix('=')
        .unwrap_or_else(|| panic!("ureq must be pinned with `=`, found {req:?}"))
        .trim();
    assert_eq!(pinned.split('.').count(), 3, "the pin names a full version: {req:?}");
    let locked = locked_versions(&lock, "ureq");
    assert_eq!(locked, vec![pinned.to_owned()], "Cargo.lock holds exactly the pinned ureq");
}

#[test]
fn the_pin_check_rejects_loose_requirements() {
    // The parser itself must see a loosened pin, or the test above could not fail.
    let loose = "[dependencies]\nureq = { version = \"3.5\", default-features = false }\n";
    assert_eq!(manifest_requirement(loose, "ureq").as_deref(), Some("3.5"));
    let caret = "[dependencies]\nureq = \"^3.5.2\"\n";
    assert_eq!(manifest_requirement(caret, "ureq").as_deref(), Some("^3.5.2"));
    let other_table = "[dev-dependencies]\nureq = \"=3.5.2\"\n";
    assert_eq!(manifest_requirement(other_table, "ureq"), None);
    assert_eq!(locked_versions("name = \"ureq\"\nversion = \"3.5.2\"\n", "ureq"), vec!["3.5.2"]);
}
