//! The contract's tables against their copies: the result codes of the generated header
//! against the Python, C# and C++ enums; every export of `src/ffi` inside a panic guard.

use std::collections::BTreeMap;
use std::path::Path;

fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)).expect(relative)
}

/// `SO_ERR_NULL_ARGUMENT` -> `NULL_ARGUMENT`.
fn short(name: &str) -> String {
    name.trim_start_matches("SO_ERR_").trim_start_matches("SO_").to_string()
}

/// `NULL_ARGUMENT` -> `NullArgument`.
fn pascal(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

/// The `so_result` enum of `include/superoffice.h`: name -> value.
fn header_codes() -> BTreeMap<String, i64> {
    let h = read("include/superoffice.h");
    let start = h.find("enum so_result").expect("enum so_result in the header");
    let body = &h[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find("};").unwrap()];
    let mut codes = BTreeMap::new();
    for line in body.lines().map(str::trim) {
        if let Some((name, value)) = line.trim_end_matches(',').split_once(" = ") {
            if name.starts_with("SO_") {
                codes.insert(name.to_string(), value.trim().parse().unwrap());
            }
        }
    }
    assert!(codes.len() >= 17, "parsed {codes:?}");
    codes
}

/// `NAME = value` lines of a block that starts at `marker` and ends at `end`.
fn assignments(text: &str, marker: &str, end: &str) -> BTreeMap<String, i64> {
    let start = text.find(marker).unwrap_or_else(|| panic!("{marker}"));
    let block = &text[start + marker.len()..];
    let block = &block[..block.find(end).unwrap_or(block.len())];
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with("//") && !l.starts_with('"'))
        .filter_map(|l| l.trim_end_matches(',').split_once('='))
        .filter_map(|(n, v)| Some((n.trim().to_string(), v.trim().parse::<i64>().ok()?)))
        .filter(|(n, _)| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect()
}

#[test]
fn python_result_codes_are_the_headers() {
    let expected: BTreeMap<String, i64> = header_codes().into_iter().map(|(n, v)| (short(&n), v)).collect();
    let py = assignments(&read("bindings/python/src/superoffice_ffi/errors.py"), "class ResultCode(enum.IntEnum):", "\n\n\n");
    assert_eq!(py, expected, "bindings/python: ResultCode must have exactly the header's names and values");
}

#[test]
fn csharp_result_codes_are_the_headers() {
    let expected: BTreeMap<String, i64> = header_codes().into_iter().map(|(n, v)| (pascal(&short(&n)), v)).collect();
    let cs = assignments(&read("bindings/csharp/src/SuperOfficeResult.cs"), "public enum SuperOfficeResult", "}");
    assert_eq!(cs, expected, "bindings/csharp: SuperOfficeResult must have exactly the header's names and values");
}

/// The C++ enum defines each member as the header's constant (`not_found = SO_ERR_NOT_FOUND,`):
/// every code of the header must be there, with its name in snake case.
#[test]
fn cpp_result_codes_are_the_headers() {
    let expected: BTreeMap<String, String> =
        header_codes().into_keys().map(|n| (short(&n).to_ascii_lowercase(), n)).collect();
    let hpp = read("include/superoffice.hpp");
    let marker = "enum class ErrorCode : std::int32_t {";
    let start = hpp.find(marker).expect("enum class ErrorCode in include/superoffice.hpp");
    let block = &hpp[start + marker.len()..];
    let block = &block[..block.find("};").unwrap()];
    let cpp: BTreeMap<String, String> = block
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').split_once(" = "))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    assert_eq!(cpp, expected, "include/superoffice.hpp: ErrorCode must have exactly the header's codes");
}

/// The `so_delivery` enum of the header: `NOT_SENT` -> 1, ...
fn header_deliveries() -> BTreeMap<String, i64> {
    let h = read("include/superoffice.h");
    let found = assignments(&h[h.find("enum so_delivery").expect("enum so_delivery in the header")..], "{", "};");
    let d: BTreeMap<String, i64> = found.into_iter().map(|(n, v)| (n.trim_start_matches("SO_DELIVERY_").to_string(), v)).collect();
    assert_eq!(d.len(), 4, "{d:?}");
    d
}

#[test]
fn every_binding_s_delivery_is_the_headers() {
    let expected = header_deliveries();
    assert_eq!(
        (expected["NONE"], expected["NOT_SENT"], expected["UNKNOWN"], expected["ANSWERED"]),
        (0, 1, 2, 3),
        "the values the issue fixed"
    );
    let py = assignments(&read("bindings/python/src/superoffice_ffi/errors.py"), "class Delivery(enum.IntEnum):", "\n\n\n");
    assert_eq!(py, expected, "bindings/python: Delivery");
    let cs = assignments(&read("bindings/csharp/src/SuperOfficeDelivery.cs"), "public enum SuperOfficeDelivery", "}");
    let pascal_expected: BTreeMap<String, i64> = expected.iter().map(|(n, v)| (pascal(n), *v)).collect();
    assert_eq!(cs, pascal_expected, "bindings/csharp: SuperOfficeDelivery");
    let hpp = read("include/superoffice.hpp");
    let marker = "enum class Delivery : std::int32_t {";
    let block = &hpp[hpp.find(marker).expect("enum class Delivery") + marker.len()..];
    let block = &block[..block.find("};").unwrap()];
    let cpp: BTreeMap<String, String> = block
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').split_once(" = "))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let cpp_expected: BTreeMap<String, String> =
        expected.keys().map(|n| (n.to_ascii_lowercase(), format!("SO_DELIVERY_{n}"))).collect();
    assert_eq!(cpp, cpp_expected, "include/superoffice.hpp: Delivery");
}

#[test]
fn every_header_code_has_its_text() {
    for (name, value) in header_codes() {
        let text = superoffice::ffi::errors::so_result_str(value as i32);
        // SAFETY: so_result_str returns a static C string.
        let text = unsafe { std::ffi::CStr::from_ptr(text) }.to_str().unwrap();
        assert_ne!(text, "unknown result code", "{name}");
    }
}

/// Every `pub extern "C" fn` of `src/ffi` hands its whole body to a guard (or to another
/// export that does): the first thing its body does is call one.
#[test]
fn every_export_runs_inside_a_guard() {
    const GUARDS: [&str; 7] = ["guard(", "guard_new(", "guard_result(", "with_options(", "reader(", "free_box(", "so_send_cc_password_emails_with_progress("];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ffi");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("pub extern \"C\" fn ") {
            rest = &rest[i..];
            let name: String = rest["pub extern \"C\" fn ".len()..].chars().take_while(|c| *c != '(').collect();
            let open = rest.find('{').unwrap();
            let body = rest[open + 1..].trim_start();
            assert!(
                GUARDS.iter().any(|g| body.starts_with(g)),
                "{}: {name} does not start inside a guard: {}",
                path.display(),
                body.lines().next().unwrap_or("")
            );
            checked += 1;
            rest = &rest[open..];
        }
    }
    assert!(checked >= 30, "found only {checked} exports");
}

/// The header and `docs/` are the manual: no file of the repository points outside it
/// (to the design notes the project started from).
#[test]
fn no_file_points_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Spelled in pieces, so this file does not match itself.
    let outside = [format!("{}/{}", "shared", "design"), format!("{}/{}", "shared", "spec"), format!("../{}", "shared")];
    const SKIP: [&str; 7] = ["target", "build", ".git", ".venv", "node_modules", "__pycache__", "corpus"];
    let mut stack = vec![root.to_path_buf()];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !SKIP.contains(&name.as_str()) && !name.ends_with(".egg-info") {
                    stack.push(path);
                }
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            files += 1;
            for o in &outside {
                assert!(!text.contains(o.as_str()), "{} points outside the repository ({o})", path.display());
            }
        }
    }
    assert!(files > 50, "only {files} files read");
}
