//! A broken config file is a usage error: exit 2, and stderr points at `<file>:<line>` and
//! names the key, with no panic. A wrong `[[connection]]` breaks that connection only (issue
//! 16.6): it is listed as broken with its `<file>:<line>` error, refused with exit 2 when used,
//! and every other connection works.

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

/// Asserts that `toml` loads with connection `name` broken: listed by `quarry connections` with
/// `<path>:<line>` and every fragment, refused with exit 2 (the same words) when used, while
/// the built-in `local` still runs.
#[track_caller]
fn assert_broken_connection(toml: &str, name: &str, line: usize, fragments: &[&str]) {
    let sb = Sandbox::new();
    let path = sb.config("quarry.toml", toml);
    let path = path.to_string_lossy().into_owned();
    let listed = sb.run(["--config", path.as_str(), "connections"]);
    listed.assert_ok().assert_no_panic();
    let location = format!("{path}:{line}:");
    let row = listed
        .stdout
        .lines()
        .find(|l| l.starts_with(name) && l.contains(" broken "))
        .unwrap_or_else(|| panic!("`{name}` is not listed as broken\n{listed}"));
    assert!(row.contains(&location), "lacks `{location}`\n{listed}");
    for fragment in fragments {
        assert!(row.contains(fragment), "`{fragment}` not listed\n{listed}");
    }
    // (A connection without a name cannot be asked for.)
    if !name.starts_with('(') {
        let used = sb.run(["--config", path.as_str(), "run", "-c", name, "SELECT 1"]);
        used.assert_code(2).assert_no_panic();
        assert!(
            used.stderr.contains(&location),
            "lacks `{location}`\n{used}"
        );
        for fragment in fragments {
            assert!(
                used.stderr.contains(fragment),
                "`{fragment}` not said\n{used}"
            );
        }
    }
    let other = sb.run([
        "--config",
        path.as_str(),
        "run",
        "-c",
        "local",
        "SELECT 1 AS one",
    ]);
    other.assert_ok();
}

#[test]
fn one_broken_connection_leaves_the_others_working() {
    let sb = Sandbox::new();
    let data = sb.work().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");
    std::fs::write(data.join("people.csv"), "id,name\n1,ada\n").expect("write csv");
    let toml = format!(
        "default_connection = \"bad\"\n\n[[connection]]\nname = \"files\"\nkind = \"local\"\n\
         paths = [\"{}\"]\n\n[[connection]]\nname = \"bad\"\nkind = \"athena\"\nregion = 7\n",
        data.display()
    );
    let path = sb.config("quarry.toml", &toml);
    let config = path.to_string_lossy().into_owned();
    let good = sb.run([
        "--config",
        config.as_str(),
        "run",
        "-c",
        "files",
        "SELECT name FROM people",
    ]);
    good.assert_ok();
    assert!(good.stdout.contains("ada"), "{good}");
    // The default is the broken one: used without -c, it is refused, naming file and line.
    let default = sb.run(["--config", config.as_str(), "run", "SELECT 1"]);
    default.assert_code(2).assert_no_panic();
    assert!(
        default.stderr.contains(&format!("{config}:11:")),
        "{default}"
    );
    assert!(default.stderr.contains("broken"), "{default}");
}

#[test]
fn malformed_toml() {
    let toml = "# my connections\n[[connection]]\nname = \"broken\nkind = \"local\"\n";
    assert_config_error(toml, 3, &["TOML"]);
}

#[test]
fn unknown_key() {
    let toml = "[[connection]]\nname = \"files\"\nkind = \"local\"\ncolour = \"red\"\n";
    assert_broken_connection(toml, "files", 4, &["colour"]);
}

#[test]
fn unknown_top_level_key() {
    assert_config_error("\n\nthemes = 3\n", 3, &["themes"]);
}

#[test]
fn duplicate_connection_name() {
    let toml = "[[connection]]\nname = \"dup\"\nkind = \"local\"\n\n\
                [[connection]]\nname = \"dup\"\nkind = \"local\"\n";
    assert_broken_connection(toml, "dup", 6, &["dup", "duplicate"]);
}

#[test]
fn missing_required_key() {
    let toml = "\n[[connection]]\nkind = \"local\"\npaths = []\n";
    assert_broken_connection(toml, "(unnamed connection)", 2, &["name"]);
    let toml =
        "[[connection]]\nname = \"rs\"\nkind = \"redshift-data\"\ncluster_identifier = \"c\"\n";
    assert_broken_connection(toml, "rs", 1, &["database"]);
}

#[test]
fn unknown_kind() {
    let toml = "[[connection]]\nname = \"ora\"\nkind = \"oracle\"\n";
    assert_broken_connection(toml, "ora", 3, &["kind", "oracle"]);
}

#[test]
fn wrong_value_type() {
    let toml = "[[connection]]\nname = \"l\"\nkind = \"local\"\n\npaths = \"~/data\"\n";
    assert_broken_connection(toml, "l", 5, &["paths"]);
}

#[test]
fn errors_are_reported_for_run_too() {
    let sb = Sandbox::new();
    let path = sb.config("bad.toml", "[ui]\nmax_column_width = \"wide\"\n");
    let out = sb.run([
        "--config",
        path.to_str().unwrap_or_default(),
        "run",
        "SELECT 1",
    ]);
    out.assert_code(2).assert_no_panic();
    assert!(out.stderr.contains("max_column_width"), "{out}");
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
