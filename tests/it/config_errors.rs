//! A broken config file is a usage error: exit 2, and stderr points at `<file>:<line>` and
//! names the key, with no panic.

use crate::common::{Output, Sandbox};

/// Writes `toml` as the config and runs `quarry --config <it> connections`.
fn load(toml: &str) -> (Output, String) {
    let sb = Sandbox::new();
    let path = sb.config("quarry.toml", toml);
    let path = path.to_string_lossy().into_owned();
    let out = sb.run(["--config", path.as_str(), "connections"]);
    (out, path)
}

/// Asserts exit 2, `<path>:<line>` in stderr, every fragment in stderr, and no panic.
#[track_caller]
fn assert_config_error(toml: &str, line: usize, fragments: &[&str]) {
    let (out, path) = load(toml);
    out.assert_code(2).assert_no_panic();
    let location = format!("{path}:{line}");
    // `:{line}` must be followed by `:` or a space so that line 1 doesn't match line 12.
    let located = out.stderr.contains(&format!("{location}:"))
        || out.stderr.contains(&format!("{location} "));
    assert!(located, "stderr lacks `{location}`\n{out}");
    for fragment in fragments {
        assert!(
            out.stderr.contains(fragment),
            "stderr lacks `{fragment}`\n{out}"
        );
    }
    assert!(
        out.stdout.trim().is_empty(),
        "nothing but the error is printed\n{out}"
    );
}

#[test]
fn malformed_toml() {
    let toml = "# my connections\n[[connection]]\nname = \"broken\nkind = \"local\"\n";
    assert_config_error(toml, 3, &["TOML"]);
}

#[test]
fn unknown_key() {
    let toml = "[[connection]]\nname = \"files\"\nkind = \"local\"\ncolour = \"red\"\n";
    assert_config_error(toml, 4, &["colour"]);
}

#[test]
fn unknown_top_level_key() {
    assert_config_error("\n\nthemes = 3\n", 3, &["themes"]);
}

#[test]
fn duplicate_connection_name() {
    let toml = "[[connection]]\nname = \"dup\"\nkind = \"local\"\n\n\
                [[connection]]\nname = \"dup\"\nkind = \"local\"\n";
    assert_config_error(toml, 6, &["dup", "duplicate"]);
}

#[test]
fn missing_required_key() {
    let toml = "\n[[connection]]\nkind = \"local\"\npaths = []\n";
    assert_config_error(toml, 2, &["name"]);
    let toml =
        "[[connection]]\nname = \"rs\"\nkind = \"redshift-data\"\ncluster_identifier = \"c\"\n";
    assert_config_error(toml, 1, &["database"]);
}

#[test]
fn unknown_kind() {
    let toml = "[[connection]]\nname = \"ora\"\nkind = \"oracle\"\n";
    assert_config_error(toml, 3, &["kind", "oracle"]);
}

#[test]
fn wrong_value_type() {
    let toml = "[[connection]]\nname = \"l\"\nkind = \"local\"\n\npaths = \"~/data\"\n";
    assert_config_error(toml, 5, &["paths"]);
}

#[test]
fn errors_are_reported_for_run_too() {
    let sb = Sandbox::new();
    let path = sb.config(
        "bad.toml",
        "[[connection]]\nname = \"x\"\nkind = \"oracle\"\n",
    );
    let out = sb.run([
        "--config",
        path.to_str().unwrap_or_default(),
        "run",
        "SELECT 1",
    ]);
    out.assert_code(2).assert_no_panic();
    assert!(out.stderr.contains("oracle"), "{out}");
}

#[test]
fn default_config_location_is_read() {
    let sb = Sandbox::new();
    let default = sb.config_home().join("quarry/config.toml");
    std::fs::create_dir_all(default.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(&default, "[ui]\nmax_width = 3\n").expect("write default config");
    let out = sb.run(["connections"]);
    out.assert_code(2).assert_no_panic();
    let location = format!("{}:2", default.display());
    assert!(
        out.stderr.contains(&location),
        "stderr lacks `{location}`\n{out}"
    );
    assert!(out.stderr.contains("max_width"), "{out}");
}

#[test]
fn missing_explicit_config_is_an_error() {
    let sb = Sandbox::new();
    let missing = sb.work().join("nope.toml");
    let out = sb.run([
        "--config",
        missing.to_str().unwrap_or_default(),
        "connections",
    ]);
    out.assert_code(2).assert_no_panic();
    assert!(out.stderr.contains("nope.toml"), "{out}");
}

#[test]
fn control_characters_in_keys_are_not_echoed_raw() {
    let (out, _) = load("\"evil\\u001b[2J\" = 1\n");
    out.assert_code(2).assert_no_panic();
    assert!(!out.stderr.contains('\x1b'), "{out:?}");
}
