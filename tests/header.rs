//! The committed header must be what cbindgen generates from the code.
//! `SO_UPDATE_HEADER=1 cargo test --test header` rewrites it (`make header`).

use std::path::Path;

fn generate() -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut config = cbindgen::Config::from_file(Path::new(root).join("cbindgen.toml")).expect("cbindgen.toml");
    let version = env!("CARGO_PKG_VERSION");
    let parts: Vec<&str> = version.split(['.', '-']).collect();
    config.after_includes = Some(format!(
        "\n/* The version of this header; compare with so_version() at run time. */\n\
         #define SO_VERSION \"{version}\"\n#define SO_VERSION_MAJOR {}\n#define SO_VERSION_MINOR {}\n#define SO_VERSION_PATCH {}\n",
        parts[0], parts[1], parts[2]
    ));
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn committed_header_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/superoffice.h");
    let generated = generate();
    if std::env::var_os("SO_UPDATE_HEADER").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/superoffice.h differs from what the code generates: run `make header` and commit it"
    );
}
