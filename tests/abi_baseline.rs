//! The C ABI does not drift: the header's declarations (its text without comments) and
//! the shared library's exported `so_` symbols equal the recorded baseline
//! (tests/abi/declarations.txt). A deliberate extension of the ABI records a new
//! baseline with `SO_UPDATE_ABI=1 cargo test --release --test abi_baseline`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    loop {
        let block = rest.find("/*");
        let line = rest.find("//");
        match (block, line) {
            (Some(b), l) if l.map_or(true, |l| b < l) => {
                out.push_str(&rest[..b]);
                let end = rest[b + 2..].find("*/").expect("unterminated comment") + b + 4;
                rest = &rest[end..];
            }
            (_, Some(l)) => {
                out.push_str(&rest[..l]);
                rest = rest[l..].find('\n').map_or("", |n| &rest[l + n..]);
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// One declaration a line, white space folded.
fn declarations(header: &str) -> String {
    let text = strip_comments(header);
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    folded.split_inclusive(';').map(|d| d.trim().to_string() + "\n").collect()
}

fn exported_symbols(lib: &Path) -> BTreeSet<String> {
    let out = Command::new("nm").args(["-D", "--defined-only"]).arg(lib).output().expect("nm runs");
    assert!(out.status.success(), "nm {}", lib.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|s| s.starts_with("so_"))
        .map(str::to_string)
        .collect()
}

#[test]
fn header_declarations_and_exported_symbols_match_the_baseline() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = std::fs::read_to_string(root.join("include/superoffice.h")).unwrap();
    let decls = declarations(&header);
    let lib = root.join("target/release/libsuperoffice.so");
    let symbols = exported_symbols(&lib);
    assert!(!symbols.is_empty(), "no so_ symbol exported by {}", lib.display());
    let mut current = decls.clone();
    current.push_str("--- exported symbols\n");
    for s in &symbols {
        current.push_str(s);
        current.push('\n');
    }
    let baseline_path = root.join("tests/abi/declarations.txt");
    if std::env::var_os("SO_UPDATE_ABI").is_some() {
        std::fs::create_dir_all(baseline_path.parent().unwrap()).unwrap();
        std::fs::write(&baseline_path, &current).unwrap();
    }
    let baseline = std::fs::read_to_string(&baseline_path).unwrap();
    assert_eq!(current, baseline, "the header's declarations or the exported symbols changed");
    // Every exported function is declared in the header, and every declared one exported.
    for s in &symbols {
        assert!(decls.contains(&format!(" {s}(")) || decls.contains(&format!("*{s}(")), "{s} not declared");
    }
}
