use std::fs;
use std::path::{Path, PathBuf};

use super::keys::parse_action;
use super::values::line_column;
use super::*;
use crate::model::action::Action;
use crate::model::keys::KeyContext;

fn path() -> &'static Path {
    Path::new("/cfg/quarry.toml")
}

/// What is wrong with `text`: the error that stops the whole file, or else the one broken
/// connection (a wrong `[[connection]]` spares the rest of the file).
fn err(text: &str) -> Failure {
    match parse(text, path()) {
        Err(e) => Failure {
            line: e.line(),
            text: e.to_string(),
        },
        Ok(c) if c.broken.len() == 1 => Failure {
            line: Some(c.broken[0].line),
            text: c.broken[0].error.clone(),
        },
        Ok(c) => panic!("expected an error, parsed {c:?}"),
    }
}

struct Failure {
    line: Option<usize>,
    text: String,
}

impl Failure {
    fn line(&self) -> Option<usize> {
        self.line
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[test]
fn unknown_theme_lists_the_bundled_ones() {
    assert_err(
        "[ui]\ntheme = \"neon\"\n",
        2,
        &["theme", "base16-ocean.dark"],
    );
    let ok = parse("[ui]\ntheme = \"Solarized (dark)\"\n", path()).unwrap();
    assert_eq!(ok.ui.theme.as_deref(), Some("Solarized (dark)"));
}

#[test]
fn direct_redshift_sign_in_options_are_checked() {
    let base =
        "[[connection]]\nname = \"dw\"\nkind = \"redshift\"\nhost = \"h\"\ndatabase = \"dev\"\n";
    assert_err(base, 1, &["missing the required key `user`", "iam = true"]);
    assert_err(
        &format!("{base}user = \"a\"\ndb_groups = [\"x\"]\n"),
        7,
        &["`db_groups` is for IAM sign-in"],
    );
    assert_err(
        &format!("{base}iam = true\nworkgroup_name = \"wg\"\nuser = \"a\"\n"),
        7,
        &["Redshift Serverless signs you in as your IAM identity"],
    );
    assert_err(
        &format!("{base}iam = true\ncluster_identifier = \"c\"\nauto_create = true\n"),
        8,
        &["`auto_create` applies to a database `user`"],
    );
    assert_err(
        &format!("{base}iam = true\ncluster_identifier = \"c\"\nworkgroup_name = \"w\"\n"),
        7,
        &["not both"],
    );
    let ok = parse(
            &format!(
                "{base}iam = true\nuser = \"a\"\ndb_groups = [\"r\", \"w\"]\nauto_create = true\nsslrootcert = \"ca.pem\"\n"
            ),
            path(),
        )
        .unwrap();
    match &ok.connections[0].details {
        ConnectionDetails::Redshift(RedshiftConfig {
            user,
            db_groups,
            auto_create,
            sslrootcert,
            ..
        }) => {
            assert_eq!(user.as_deref(), Some("a"));
            assert_eq!(db_groups, &["r", "w"]);
            assert!(auto_create);
            assert_eq!(sslrootcert.as_deref(), Some(Path::new("/cfg/ca.pem")));
        }
        other => panic!("{other:?}"),
    }
}

/// Asserts the error's line and that its message contains every fragment.
fn assert_err(text: &str, line: usize, fragments: &[&str]) -> String {
    let e = err(text);
    let msg = e.to_string();
    assert_eq!(e.line(), Some(line), "wrong line in: {msg}");
    assert!(
        msg.starts_with(&format!("/cfg/quarry.toml:{line}:")),
        "no file:line prefix: {msg}"
    );
    for f in fragments {
        assert!(msg.contains(f), "`{f}` not in: {msg}");
    }
    msg
}

#[test]
fn example_config_parses() {
    let c = parse(EXAMPLE, Path::new("/home/u/.config/quarry/config.toml")).unwrap();
    assert_eq!(c.connections.len(), 1);
    let files = &c.connections[0];
    assert_eq!(files.name, "files");
    assert_eq!(files.kind, ConnectionKind::Local);
    match &files.details {
        ConnectionDetails::Local(LocalConfig { paths }) => {
            assert_eq!(paths.len(), 1);
            assert!(paths[0].is_absolute() && paths[0].ends_with("data"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!c.keys.is_empty());
    assert_eq!(c.ui.max_column_width, 40);
    // The built-in local engine comes first.
    let names: Vec<String> = c.all_connections().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["local", "files"]);
}

/// Every commented-out kind in the example is valid once uncommented.
#[test]
fn example_aws_sections_parse_when_uncommented() {
    let mut text = String::new();
    for line in EXAMPLE.lines() {
        // `#: ` marks example lines that are meant to be uncommented.
        text.push_str(line.strip_prefix("#: ").unwrap_or(line));
        text.push('\n');
    }
    let c = parse(&text, path()).unwrap();
    assert_eq!(c.history, HistoryConfig::default());
    let kinds: Vec<ConnectionKind> = c.connections.iter().map(|c| c.kind).collect();
    for k in ConnectionKind::ALL {
        assert!(kinds.contains(&k), "example lacks kind {k}: {kinds:?}");
    }
}

#[test]
fn full_valid_file() {
    let text = r#"
default_connection = "prod"

[ui]
max_column_width = 60
theme = "base16-ocean.dark"

[keys.global]
"ctrl-r" = "run-statement"
"f9" = "run-all"

[keys.grid]
"x" = "copy-cell"

[[connection]]
name = "prod"
kind = "athena"
region = "eu-west-1"
profile = "analytics"
workgroup = "primary"
database = "sales"
output_location = "s3://bucket/results/"
result_reuse_minutes = 30
scan_price_per_tb = 6.25

[[connection]]
name = "rs"
kind = "redshift-data"
workgroup_name = "wg"
database = "dev"
session_keep_alive_seconds = 3600

[[connection]]
name = "pg"
kind = "redshift"
host = "localhost"
port = 5439
user = "me"
database = "dev"
password_env = "PGPASSWORD"
sslmode = "require"
engine = "postgres"

[[connection]]
name = "ddb"
kind = "dynamodb"
endpoint_url = "http://127.0.0.1:8000"
limit = 500
consistent_read = true

[[connection]]
name = "rel"
kind = "local"
paths = ["data/x.csv", "/abs/y.parquet"]
"#;
    let c = parse(text, path()).unwrap();
    assert_eq!(c.default_connection.as_deref(), Some("prod"));
    assert_eq!(c.ui.max_column_width, 60);
    assert_eq!(c.ui.theme.as_deref(), Some("base16-ocean.dark"));
    assert_eq!(c.keys[&KeyContext::Global]["ctrl-r"], Action::RunStatement);
    assert_eq!(c.keys[&KeyContext::Grid]["x"], Action::CopyCell);
    assert_eq!(c.connections.len(), 5);
    match &c.connections[0].details {
        ConnectionDetails::Athena(AthenaConfig {
            catalog,
            workgroup,
            result_reuse_minutes,
            scan_price_per_tb,
            ..
        }) => {
            assert_eq!(catalog.as_deref(), Some("AwsDataCatalog"));
            assert_eq!(workgroup.as_deref(), Some("primary"));
            assert_eq!(*result_reuse_minutes, Some(30));
            assert_eq!(*scan_price_per_tb, Some(6.25));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.connections[0].region.as_deref(), Some("eu-west-1"));
    match &c.connections[1].details {
        ConnectionDetails::RedshiftData(RedshiftDataConfig {
            workgroup_name,
            session_keep_alive_seconds,
            ..
        }) => {
            assert_eq!(workgroup_name.as_deref(), Some("wg"));
            assert_eq!(*session_keep_alive_seconds, Some(3600));
        }
        other => panic!("{other:?}"),
    }
    match &c.connections[2].details {
        ConnectionDetails::Redshift(RedshiftConfig { port, iam, .. }) => {
            assert_eq!(*port, Some(5439));
            assert!(!iam);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.connections[3].details,
        ConnectionDetails::Dynamodb(DynamodbConfig {
            limit: Some(500),
            consistent_read: true
        })
    );
    match &c.connections[4].details {
        ConnectionDetails::Local(LocalConfig { paths }) => {
            assert_eq!(paths[0], PathBuf::from("/cfg/data/x.csv"));
            assert_eq!(paths[1], PathBuf::from("/abs/y.parquet"));
        }
        other => panic!("{other:?}"),
    }
    // `local` is built in even when not configured.
    assert_eq!(c.all_connections()[0].name, "local");
    assert_eq!(c.all_connections().len(), 6);
}

#[test]
fn user_local_replaces_builtin() {
    let c = parse(
        "[[connection]]\nname = \"local\"\nkind = \"local\"\npaths = [\"/d\"]\n",
        path(),
    )
    .unwrap();
    let all = c.all_connections();
    assert_eq!(all.len(), 1);
    assert!(
        matches!(&all[0].details, ConnectionDetails::Local(LocalConfig { paths }) if paths == &[PathBuf::from("/d")])
    );
}

#[test]
fn history_section() {
    let c = parse("", path()).unwrap();
    assert_eq!(
        c.history,
        HistoryConfig {
            max_entries: 10_000,
            max_age_days: 90
        }
    );
    assert_eq!(
        crate::store::history::Retention::from(c.history),
        crate::store::history::Retention::default()
    );
    let c = parse("[history]\nmax_entries = 500\nmax_age_days = 0\n", path()).unwrap();
    assert_eq!(c.history.max_entries, 500);
    assert_eq!(c.history.max_age_days, 0);
    let r = c.history.retention();
    assert_eq!((r.max_entries, r.max_age_days), (500, 0));
    let c = parse("[history]\nmax_age_days = 36500\n", path()).unwrap();
    assert_eq!(c.history.max_entries, 10_000);
    assert_eq!(c.history.max_age_days, 36_500);

    assert_err(
        "[history]\nmax_entries = 0\n",
        2,
        &["`max_entries`", "between 1 and 10000000", "found 0"],
    );
    assert_err(
        "[history]\n\nmax_entries = 10000001\n",
        3,
        &["`max_entries`", "between 1 and 10000000"],
    );
    assert_err(
        "[history]\nmax_age_days = -1\n",
        2,
        &["`max_age_days`", "between 0 and 36500"],
    );
    assert_err(
        "[history]\nmax_age_days = 36501\n",
        2,
        &["`max_age_days`", "between 0 and 36500"],
    );
    assert_err(
        "[history]\nmax_age_days = \"90\"\n",
        2,
        &["`max_age_days`", "integer"],
    );
    assert_err(
        "# retention\n[history]\nmax_entries = 5\nkeep = 3\n",
        4,
        &[
            "unknown key `keep`",
            "[history]",
            "max_entries, max_age_days",
        ],
    );
    assert_err("history = 3\n", 1, &["`history`", "table"]);
}

#[test]
fn empty_file_is_defaults_with_builtin_local() {
    let c = parse("", path()).unwrap();
    assert!(c.connections.is_empty());
    assert_eq!(c.ui.max_column_width, DEFAULT_MAX_COLUMN_WIDTH);
    let all = c.all_connections();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].kind, ConnectionKind::Local);
    assert_eq!(Config::builtin_local().name, "local");
}

#[test]
fn malformed_toml() {
    assert_err("[ui]\nmax_column_width = \n", 2, &["invalid TOML"]);
    assert_err("a = 1\nb = \"unterminated\n", 2, &["invalid TOML"]);
    assert_err(
        "[ui]\ntheme = \"a\"\n\n[ui]\n",
        4,
        &["duplicate key", "`ui`"],
    );
}

#[test]
fn unknown_keys() {
    assert_err("\n\nfoo = 1\n", 3, &["unknown key `foo`"]);
    assert_err("[ui]\nmax_width = 3\n", 2, &["`max_width`", "[ui]"]);
    assert_err(
        "[[connection]]\nname = \"a\"\nkind = \"athena\"\nbogus = 1\n",
        4,
        &["unknown key `bogus`", "connection `a`", "workgroup"],
    );
    assert_err(
        "[[connections]]\nname = \"a\"\n",
        1,
        &["`connections`", "[[connection]]"],
    );
}

#[test]
fn key_of_another_kind() {
    assert_err(
        "[[connection]]\nname = \"f\"\nkind = \"local\"\nworkgroup = \"primary\"\n",
        4,
        &[
            "`workgroup` is not a key of kind `local` connections",
            "`athena`",
        ],
    );
    assert_err(
        "[[connection]]\nname = \"f\"\nkind = \"local\"\nregion = \"eu-west-1\"\n",
        4,
        &["`region` is not a key of kind `local`"],
    );
    assert_err(
        "[[connection]]\nname = \"a\"\nkind = \"athena\"\n\nhost = \"h\"\n",
        5,
        &["`host` is not a key of kind `athena`", "`redshift`"],
    );
}

#[test]
fn unknown_kind_lists_valid_ones() {
    assert_err(
        "[[connection]]\nname = \"a\"\nkind = \"mysql\"\n",
        3,
        &[
            "unknown kind `mysql`",
            "athena, redshift-data, redshift, dynamodb, local",
        ],
    );
}

#[test]
fn missing_kind_and_name() {
    assert_err(
        "\n[[connection]]\nname = \"a\"\n",
        2,
        &["connection `a` has no `kind`", "redshift-data"],
    );
    assert_err("\n\n[[connection]]\nkind = \"local\"\n", 3, &["no `name`"]);
}

#[test]
fn one_wrong_connection_is_broken_and_the_others_load() {
    let text = "default_connection = \"bad\"\n\n[[connection]]\nname = \"good\"\n\
                    kind = \"dynamodb\"\n\n[[connection]]\nname = \"bad\"\nkind = \"mysql\"\n\n\
                    [[connection]]\nname = \"local\"\nkind = \"local\"\npaths = 3\n";
    let c = parse(text, path()).expect("a wrong connection spares the file");
    assert_eq!(c.connections.len(), 1);
    assert_eq!(c.connections[0].name, "good");
    assert_eq!(c.default_connection.as_deref(), Some("bad"));
    let bad = c.broken_named("bad").expect("listed as broken");
    assert_eq!(bad.line, 9);
    assert!(
        bad.error.starts_with("/cfg/quarry.toml:9:") && bad.error.contains("mysql"),
        "{}",
        bad.error
    );
    // The user's broken `local` is not silently replaced by the built-in one.
    assert!(c.broken_named("local").is_some());
    let names: Vec<String> = c.all_connections().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["good"]);
    // A syntax error still stops the whole file.
    assert!(parse("[[connection]]\nname = \"a\n", path()).is_err());
}

#[test]
fn duplicate_connection_name() {
    let text = "[[connection]]\nname = \"a\"\nkind = \"dynamodb\"\n\n[[connection]]\nname = \"a\"\nkind = \"local\"\n";
    assert_err(text, 6, &["duplicate connection name `a`", "line 2"]);
}

#[test]
fn missing_required_keys() {
    assert_err(
        "[[connection]]\nname = \"r\"\nkind = \"redshift-data\"\ncluster_identifier = \"c\"\n",
        1,
        &["missing the required key `database`"],
    );
    assert_err(
        "[[connection]]\nname = \"r\"\nkind = \"redshift-data\"\ndatabase = \"d\"\n",
        1,
        &["`cluster_identifier`", "`workgroup_name`"],
    );
    assert_err(
        "[[connection]]\nname = \"r\"\nkind = \"redshift-data\"\ndatabase = \"d\"\ncluster_identifier = \"c\"\nworkgroup_name = \"w\"\n",
        6,
        &["both", "exactly one"],
    );
    assert_err(
        "[[connection]]\nname = \"p\"\nkind = \"redshift\"\nhost = \"h\"\nuser = \"u\"\n",
        1,
        &["missing the required key `database`"],
    );
}

#[test]
fn bad_values() {
    let rs = "[[connection]]\nname = \"p\"\nkind = \"redshift\"\nhost = \"h\"\nuser = \"u\"\ndatabase = \"d\"\n";
    assert_err(
        &format!("{rs}port = 70000\n"),
        7,
        &["`port` must be between 1 and 65535"],
    );
    assert_err(
        &format!("{rs}port = \"5439\"\n"),
        7,
        &["`port` must be an integer, found string"],
    );
    assert_err(&format!("{rs}sslmode = \"always\"\n"), 7, &["verify-full"]);
    assert_err(
        &format!("{rs}engine = \"mysql\"\n"),
        7,
        &["redshift, postgres"],
    );
    assert_err(
        &format!("{rs}password_env = \"P\"\niam = true\n"),
        8,
        &["remove `password_env`"],
    );
    assert_err(
        "[[connection]]\nname = \"a\"\nkind = \"athena\"\noutput_location = \"bucket/x\"\n",
        4,
        &["s3://"],
    );
    assert_err(
        "[[connection]]\nname = \"a\"\nkind = \"athena\"\nscan_price_per_tb = -1\n",
        4,
        &["`scan_price_per_tb`", "non-negative"],
    );
    assert_err(
        "[[connection]]\nname = \"a\"\nkind = \"athena\"\nresult_reuse_minutes = 20000\n",
        4,
        &["between 1 and 10080"],
    );
    assert_err(
        "[[connection]]\nname = \"r\"\nkind = \"redshift-data\"\nworkgroup_name = \"w\"\ndatabase = \"d\"\nsession_keep_alive_seconds = 90000\n",
        6,
        &["86400"],
    );
    assert_err(
        "[[connection]]\nname = \"r\"\nkind = \"redshift-data\"\nworkgroup_name = \"w\"\ndatabase = \"d\"\ndb_user = \"u\"\n",
        6,
        &[
            "`db_user` works with `cluster_identifier` only",
            "IAM identity",
        ],
    );
    assert_err(
        "[[connection]]\nname = \"r\"\nkind = \"redshift-data\"\ncluster_identifier = \"c\"\ndatabase = \"d\"\nsecret_arn = \"arn:s\"\ndb_user = \"u\"\n",
        7,
        &["keep one of them"],
    );
    assert_err("[ui]\nmax_column_width = 0\n", 2, &["between 3 and 1000"]);
    assert_err(
        "[[connection]]\nname = \"l\"\nkind = \"local\"\npaths = \"~/data\"\n",
        4,
        &["array of strings"],
    );
    assert_err("default_connection = \"nope\"\n", 1, &["`nope`", "local"]);
    assert_err(
        "[[connection]]\nname = \"d\"\nkind = \"dynamodb\"\nendpoint_url = \"localhost:8000\"\n",
        4,
        &["http://"],
    );
}

#[test]
fn password_is_refused_without_echo() {
    let msg = assert_err(
        "[[connection]]\nname = \"p\"\nkind = \"redshift\"\nhost = \"h\"\nuser = \"u\"\ndatabase = \"d\"\npassword = \"hunter2\"\n",
        7,
        &["password_env"],
    );
    assert!(!msg.contains("hunter2"), "{msg}");
    let msg = assert_err(
        "[[connection]]\nname = \"a\"\nkind = \"athena\"\naws_secret_access_key = \"SECRETVALUE\"\n",
        4,
        &["profile"],
    );
    assert!(!msg.contains("SECRETVALUE"), "{msg}");
}

#[test]
fn key_override_errors() {
    assert_err(
        "[keys.global]\n\"ctrl-r\" = \"run-statement\"\n\"hyper-x\" = \"quit\"\n",
        3,
        &["[keys.global]", "unknown key `hyper-x`"],
    );
    assert_err(
        "[keys.grid]\n\"x\" = \"run-statment\"\n",
        2,
        &[
            "unknown action `run-statment`",
            "did you mean `run-statement`",
            "copy-cell",
        ],
    );
    assert_err(
        "[keys.popup]\n\"x\" = \"quit\"\n",
        1,
        &["[keys.popup]", "[keys.grid]"],
    );
    assert_err(
        "[keys.global]\n\"ctrl-r\" = \"quit\"\n\"Ctrl-R\" = \"help\"\n",
        3,
        &["same key"],
    );
    assert_err("[keys.grid]\n\"x\" = 3\n", 2, &["must be a string"]);
}

#[test]
fn control_characters_are_escaped_in_errors() {
    let e = err("\"a\\u001b[31m\" = 1\n").to_string();
    assert!(!e.contains('\u{1b}'), "{e:?}");
    assert!(e.contains("\\u{1b}"), "{e:?}");
}

#[test]
fn action_names_round_trip() {
    for a in Action::ALL {
        assert_eq!(parse_action(a.name()), Some(*a), "{a:?}");
    }
}

#[test]
fn line_column_counts_chars() {
    assert_eq!(line_column("ab\ncé d", 7), (2, 4));
    assert_eq!(line_column("", 10), (1, 1));
}

#[test]
fn explicit_missing_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let e = load_from(Some(&missing), None, None).unwrap_err();
    assert!(matches!(e, ConfigError::NotFound { .. }));
    assert!(e.to_string().contains("nope.toml") && e.to_string().contains("--config"));
    let e = load_from(None, Some(missing.clone().into()), None).unwrap_err();
    assert!(e.to_string().contains("QUARRY_CONFIG"), "{e}");
    // The default path may be missing.
    let c = load_from(None, None, Some(missing)).unwrap();
    assert!(c.source.is_none());
}

#[test]
fn a_fifo_or_directory_is_refused_without_reading() {
    // Issue 15: reading a FIFO given as the config blocked forever.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("config.fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let e = load_from(Some(&fifo), None, None).unwrap_err();
    assert!(matches!(e, ConfigError::NotRegular { .. }), "{e}");
    assert!(e.to_string().contains("FIFO"), "{e}");
    let e = load_from(None, Some(dir.path().into()), None).unwrap_err();
    assert!(e.to_string().contains("a directory"), "{e}");
}

#[test]
fn load_reads_and_resolves_relative_paths() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.toml");
    fs::write(
        &file,
        "[[connection]]\nname = \"l2\"\nkind = \"local\"\npaths = [\"sub\"]\n",
    )
    .unwrap();
    // $QUARRY_CONFIG loses to --config; the default loses to both.
    let c = load_from(Some(&file), Some("/nope".into()), Some("/nope2".into())).unwrap();
    assert_eq!(c.source.as_deref(), Some(file.as_path()));
    match &c.connections[0].details {
        ConnectionDetails::Local(LocalConfig { paths }) => {
            assert_eq!(paths[0], dir.path().join("sub"))
        }
        other => panic!("{other:?}"),
    }
    let c = load_from(None, Some(file.clone().into()), None).unwrap();
    assert_eq!(c.connections.len(), 1);
}

#[test]
fn init_writes_example_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new/dir/config.toml");
    let written = init(Some(&target)).unwrap();
    assert_eq!(written, target);
    assert_eq!(fs::read_to_string(&target).unwrap(), EXAMPLE);
    fs::write(&target, "# mine\n").unwrap();
    let e = init(Some(&target)).unwrap_err();
    assert!(matches!(e, ConfigError::AlreadyExists { .. }));
    assert!(e.to_string().contains("config.toml"), "{e}");
    assert!(e.to_string().contains("not overwriting"), "{e}");
    assert_eq!(fs::read_to_string(&target).unwrap(), "# mine\n");
}

#[test]
fn kind_display_matches_toml_names() {
    for k in ConnectionKind::ALL {
        assert_eq!(ConnectionKind::from_name(&k.to_string()), Some(k));
    }
    assert_eq!(ConnectionKind::RedshiftData.to_string(), "redshift-data");
}
