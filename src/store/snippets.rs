//! Saved snippets: plain `.sql` files under `<data dir>/snippets/` (sub-folders allowed), so
//! they can be edited, grepped and versioned with any tool.
//!
//! # Header
//!
//! The leading `--` comment lines of a file (up to the first line that is not one; a blank line
//! ends the header too) may carry metadata, one `-- key: value` per line:
//!
//! ```sql
//! -- name: Trips per vendor
//! -- description: Daily trip counts, busiest vendors first
//! -- connection: athena-prod
//! -- tags: trips, daily
//!
//! SELECT vendor, count(*) FROM trips WHERE day = ${day} GROUP BY 1 ORDER BY 2 DESC
//! ```
//!
//! Keys are case-insensitive. Other comment lines in the header (`-- author: me`, free text) are
//! ordinary comments and stay part of the snippet's text; the four metadata lines do not. A file
//! without a `name:` is named after its path relative to the snippets directory, without `.sql`
//! (`reports/daily.sql` is `reports/daily`).
//!
//! A header is **malformed**, and the file is listed as an error naming the file and line (and
//! left untouched), when a metadata line
//! - has an empty value (`-- tags:`),
//! - repeats a key given earlier in the header,
//! - has a control character in its value,
//! - is `tags:` with an empty item (`a,,b`, a trailing comma) or a tag with characters other than
//!   letters, digits, `-`, `_`, `.` and `/`.
//!
//! Files and folders whose names start with `.` are skipped (editors' and `AtomicFile`'s
//! temporary files), as are files not ending in `.sql`.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config as MatcherConfig, Matcher, Utf32Str};

use super::AtomicFile;
use super::paths::DataPaths;
use crate::model::connection::ConnectionKind;

/// The metadata keys of a header.
const KEYS: [&str; 4] = ["name", "description", "connection", "tags"];

/// How deep sub-folders are followed (symbolic links may loop).
const MAX_DEPTH: usize = 16;

/// A snippet's metadata besides its name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnippetMeta {
    pub description: Option<String>,
    /// The connection it runs on by default.
    pub connection: Option<String>,
    pub tags: Vec<String>,
}

/// One snippet file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// The header's `name:`, else the relative path without `.sql`.
    pub name: String,
    /// The path relative to the library, `/`-separated, with `.sql` (`reports/daily.sql`).
    pub rel_path: String,
    /// The file.
    pub path: PathBuf,
    pub meta: SnippetMeta,
    /// The SQL: the file without its metadata lines and the blank lines after them.
    pub text: String,
}

impl Snippet {
    /// The SQL and `--param` values of a snippet run. Values are written into the text (quoting
    /// rules in `crate::sql::template`) for every kind of connection except Redshift Data, where
    /// each `${name}` becomes a `:name` parameter (plain-text value), and DynamoDB, where it becomes
    /// a `?` parameter (a JSON number or string).
    pub fn render(
        &self,
        sets: &[String],
        kind: ConnectionKind,
    ) -> Result<(String, Vec<String>), String> {
        let snippet = self;
        use crate::model::connection::ParamStyle as Taken;
        use crate::sql::template::{Mode, ParamStyle, TemplateError, render};
        let declared = snippet.params();
        let mut values = std::collections::HashMap::new();
        for set in sets {
            let Some((name, value)) = set.split_once('=') else {
                return Err(format!("--set `{set}`: give NAME=VALUE"));
            };
            let name = name.trim();
            if !declared.iter().any(|p| p.name == name) {
                let names: Vec<String> = declared
                    .iter()
                    .map(|p| format!("${{{}}}", p.name))
                    .collect();
                return Err(format!(
                    "--set {name}: snippet `{}` has no ${{{name}}} placeholder (it has {})",
                    snippet.name,
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ));
            }
            if values.insert(name.to_string(), value.to_string()).is_some() {
                return Err(format!("--set {name} is given twice"));
            }
        }
        let style = kind.capabilities().params;
        let mode = match style {
            Some(Taken::Named) => Mode::AsParameters(ParamStyle::Named),
            Some(Taken::Json | Taken::SqlLiterals) => Mode::AsParameters(ParamStyle::Positional),
            None => Mode::Textual,
        };
        let rendered = render(&snippet.text, &values, mode).map_err(|e| match e {
            TemplateError::Missing { name } => format!(
                "snippet `{}` needs a value for ${{{name}}}: give --set {name}=VALUE",
                snippet.name
            ),
            e => format!("snippet `{}`: {e}", snippet.name),
        })?;
        let params = rendered
            .params
            .iter()
            .map(|p| match style {
                Some(Taken::Named) => format!("{}={}", p.name, p.value),
                Some(Taken::SqlLiterals) => p.sql_literal(),
                _ => p.json_literal(),
            })
            .collect();
        Ok((rendered.sql, params))
    }

    /// The `${…}` placeholders of the text.
    pub fn params(&self) -> Vec<crate::sql::template::TemplateParam> {
        crate::sql::template::template_params(&self.text)
    }
}

/// A file that is not a valid snippet (kept as it is).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct SnippetError {
    pub path: PathBuf,
    /// 1-based line of the problem, when it is in the header.
    pub line: Option<usize>,
    pub message: String,
}

/// Errors of the snippet library's operations.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("{} already exists: choose another name, or overwrite it", path.display())]
    Exists { path: PathBuf },
    #[error("snippet name `{name}` {reason}")]
    InvalidName { name: String, reason: String },
    #[error("{0}")]
    InvalidMeta(String),
    #[error("no snippet named `{name}` in {}", dir.display())]
    NotFound { name: String, dir: PathBuf },
    #[error("several snippets are named `{name}`: {}; give the path instead", paths.join(", "))]
    Ambiguous { name: String, paths: Vec<String> },
    #[error("{0}")]
    Malformed(SnippetError),
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The snippets directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    dir: PathBuf,
}

impl Library {
    /// The library in `dir` (which need not exist yet: it is created by the first save).
    pub fn open(dir: impl Into<PathBuf>) -> Library {
        Library { dir: dir.into() }
    }

    /// The library in the data directory (`$QUARRY_DATA_DIR/snippets`, else the platform's).
    pub fn open_default() -> Result<Library, super::StoreError> {
        Ok(Library::open(DataPaths::resolve()?.snippets_dir))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every snippet, sorted by name, and the files that could not be read or parsed, sorted by
    /// path. A missing directory is an empty library.
    pub fn list(&self) -> (Vec<Snippet>, Vec<SnippetError>) {
        let mut snippets = Vec::new();
        let mut errors = Vec::new();
        self.walk(&self.dir, "", 0, &mut snippets, &mut errors);
        snippets.sort_by(|a, b| {
            (a.name.to_lowercase(), &a.name, &a.rel_path).cmp(&(
                b.name.to_lowercase(),
                &b.name,
                &b.rel_path,
            ))
        });
        errors.sort_by(|a, b| a.path.cmp(&b.path));
        (snippets, errors)
    }

    fn walk(
        &self,
        dir: &Path,
        prefix: &str,
        depth: usize,
        snippets: &mut Vec<Snippet>,
        errors: &mut Vec<SnippetError>,
    ) {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound && depth == 0 => return,
            Err(e) => {
                errors.push(SnippetError {
                    path: dir.to_path_buf(),
                    line: None,
                    message: format!("cannot read the folder: {e}"),
                });
                return;
            }
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            if file_name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let rel = format!("{prefix}{file_name}");
            // Follows symbolic links (a linked folder of snippets is a fine thing to have).
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                if depth < MAX_DEPTH {
                    self.walk(&path, &format!("{rel}/"), depth + 1, snippets, errors);
                }
            } else if has_sql_extension(file_name) {
                match read_snippet(&path, &rel) {
                    Ok(s) => snippets.push(s),
                    Err(e) => errors.push(e),
                }
            }
        }
    }

    /// The snippet called `name`: by exact name first, then by relative path (with or without
    /// `.sql`). A malformed file found by its path is an error of its own.
    pub fn find(&self, name: &str) -> Result<Snippet, LibraryError> {
        let (snippets, errors) = self.list();
        let by_name: Vec<&Snippet> = snippets.iter().filter(|s| s.name == name).collect();
        match by_name.as_slice() {
            [one] => return Ok((*one).clone()),
            [] => {}
            many => {
                return Err(LibraryError::Ambiguous {
                    name: name.to_owned(),
                    paths: many.iter().map(|s| s.rel_path.clone()).collect(),
                });
            }
        }
        let wanted = name.trim_start_matches("./");
        let wanted = strip_sql(wanted).unwrap_or(wanted);
        if let Some(s) = snippets
            .iter()
            .find(|s| strip_sql(&s.rel_path) == Some(wanted))
        {
            return Ok(s.clone());
        }
        let wanted_path = self.dir.join(format!("{wanted}.sql"));
        if let Some(e) = errors
            .into_iter()
            .find(|e| e.path == wanted_path || e.path.with_extension("") == self.dir.join(wanted))
        {
            return Err(LibraryError::Malformed(e));
        }
        Err(LibraryError::NotFound {
            name: name.to_owned(),
            dir: self.dir.clone(),
        })
    }

    /// Saves `text` as the snippet `name`: into the file of the existing snippet of that name,
    /// else into `<dir>/<slug>.sql` (`Daily Sales` → `daily-sales.sql`; `/` in the name makes
    /// sub-folders). Written atomically; an existing file is replaced only with `overwrite`,
    /// otherwise the result is [`LibraryError::Exists`] naming it.
    pub fn save(
        &self,
        name: &str,
        text: &str,
        meta: &SnippetMeta,
        overwrite: bool,
    ) -> Result<Snippet, LibraryError> {
        let name = name.trim();
        let slug = slug(name)?;
        let meta = normalize_meta(meta)?;
        let existing = self.list().0.into_iter().find(|s| s.name == name);
        let (path, rel) = match existing {
            Some(s) => (s.path, s.rel_path),
            None => (self.dir.join(format!("{slug}.sql")), format!("{slug}.sql")),
        };
        let content = file_content(name, text, &meta);
        if !overwrite && fs::symlink_metadata(&path).is_ok() {
            return Err(LibraryError::Exists { path });
        }
        if let Some(parent) = path.parent() {
            create_private_dir(parent)?;
        }
        let io_err = |action, e| LibraryError::Io {
            action,
            path: path.clone(),
            source: e,
        };
        let mut file = AtomicFile::create(&path).map_err(|e| io_err("write", e))?;
        file.write_all(content.as_bytes())
            .map_err(|e| io_err("write", e))?;
        let committed = if overwrite {
            file.commit()
        } else {
            file.commit_no_clobber()
        };
        match committed {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(LibraryError::Exists { path });
            }
            Err(e) => return Err(io_err("write", e)),
        }
        parse(&path, &rel, &content).map_err(LibraryError::Malformed)
    }
}

/// Whether `file_name` ends in `.sql` (any case) after at least one character. Compared on
/// bytes: the four bytes before the end need not start a character (`メモ` is six bytes).
fn has_sql_extension(file_name: &str) -> bool {
    let bytes = file_name.as_bytes();
    bytes.len() > 4 && bytes[bytes.len() - 4..].eq_ignore_ascii_case(b".sql")
}

/// `a/b.sql` → `a/b` (the extension in any case).
fn strip_sql(rel: &str) -> Option<&str> {
    // `.sql` is ASCII, so when it matches, the cut falls on a character boundary.
    has_sql_extension(rel)
        .then(|| rel.get(..rel.len() - 4))
        .flatten()
}

fn read_snippet(path: &Path, rel: &str) -> Result<Snippet, SnippetError> {
    let error = |message: String| SnippetError {
        path: path.to_path_buf(),
        line: None,
        message,
    };
    let bytes = fs::read(path).map_err(|e| error(format!("cannot read the file: {e}")))?;
    let content = String::from_utf8(bytes).map_err(|_| error("not valid UTF-8 text".into()))?;
    parse(path, rel, &content)
}

/// Parses a snippet file's content (see the module's header rules).
fn parse(path: &Path, rel: &str, content: &str) -> Result<Snippet, SnippetError> {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let error = |line: usize, message: String| SnippetError {
        path: path.to_path_buf(),
        line: Some(line),
        message,
    };
    let mut values: [Option<(usize, String)>; 4] = Default::default();
    let mut text = String::with_capacity(content.len());
    let mut in_header = true;
    let mut had_meta = false;
    for (n, raw_line) in content.split_inclusive('\n').enumerate() {
        let line_no = n + 1;
        let line = raw_line.trim_end_matches(['\n', '\r']);
        if in_header {
            match line.trim_start().strip_prefix("--") {
                Some(comment) => {
                    if let Some((key, value)) = meta_line(comment) {
                        let slot = &mut values[key];
                        if let Some((first, _)) = slot {
                            return Err(error(
                                line_no,
                                format!("`{}:` is given twice (first on line {first})", KEYS[key]),
                            ));
                        }
                        check_value(KEYS[key], value).map_err(|m| error(line_no, m))?;
                        *slot = Some((line_no, value.to_owned()));
                        had_meta = true;
                        continue;
                    }
                }
                None => in_header = false,
            }
        }
        // Blank lines right after the metadata lines are part of the header's layout.
        if had_meta && text.trim().is_empty() && line.trim().is_empty() {
            continue;
        }
        text.push_str(raw_line);
    }
    let [name, description, connection, tags] = values.map(|v| v.map(|(_, s)| s));
    let name = name.unwrap_or_else(|| strip_sql(rel).unwrap_or(rel).to_owned());
    Ok(Snippet {
        name,
        rel_path: rel.to_owned(),
        path: path.to_path_buf(),
        meta: SnippetMeta {
            description,
            connection,
            tags: tags.as_deref().map(split_tags).unwrap_or_default(),
        },
        text,
    })
}

/// `key: value` of a header comment (the text after `--`) when `key` is a metadata key: the
/// key's index and the trimmed value.
fn meta_line(comment: &str) -> Option<(usize, &str)> {
    let (key, value) = comment.trim_start().split_once(':')?;
    let key = KEYS
        .iter()
        .position(|k| k.eq_ignore_ascii_case(key.trim_end()))?;
    Some((key, value.trim()))
}

/// Why a metadata value is malformed, if it is.
fn check_value(key: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("`{key}:` has no value"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("`{key}:` contains a control character"));
    }
    if key == "tags" {
        for tag in value.split(',').map(str::trim) {
            if tag.is_empty() {
                return Err(
                    "`tags:` has an empty tag (two commas in a row or a trailing comma)".into(),
                );
            }
            if !tag.chars().all(is_tag_char) {
                return Err(format!(
                    "tag `{tag}` may only hold letters, digits, `-`, `_`, `.` and `/` \
                     (separate tags with commas)"
                ));
            }
        }
    }
    Ok(())
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')
}

fn split_tags(value: &str) -> Vec<String> {
    value.split(',').map(|t| t.trim().to_owned()).collect()
}

/// The file name for `name`: each `/`-separated part lower-cased, letters and digits kept, `-`
/// and `_` kept, every other run of characters made one `-`; empty parts dropped (so `..` and a
/// leading `/` never leave the library).
fn slug(name: &str) -> Result<String, LibraryError> {
    let invalid = |reason: &str| LibraryError::InvalidName {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    if name.is_empty() {
        return Err(invalid("is empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("contains a control character"));
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        let mut s = String::new();
        for c in part.chars().flat_map(char::to_lowercase) {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                s.push(c);
            } else if !s.ends_with('-') {
                s.push('-');
            }
        }
        let s = s.trim_matches('-');
        if !s.is_empty() {
            parts.push(s.to_owned());
        }
    }
    if parts.is_empty() {
        return Err(invalid("has no letters or digits to name its file after"));
    }
    Ok(parts.join("/"))
}

/// Trims the metadata, drops empty values and checks what is left as the parser would.
fn normalize_meta(meta: &SnippetMeta) -> Result<SnippetMeta, LibraryError> {
    let clean = |key: &str, v: &Option<String>| -> Result<Option<String>, LibraryError> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => {
                check_value(key, v).map_err(LibraryError::InvalidMeta)?;
                Ok(Some(v.to_owned()))
            }
        }
    };
    let tags: Vec<String> = meta
        .tags
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    for tag in &tags {
        if !tag.chars().all(is_tag_char) {
            return Err(LibraryError::InvalidMeta(format!(
                "tag `{tag}` may only hold letters, digits, `-`, `_`, `.` and `/`"
            )));
        }
    }
    Ok(SnippetMeta {
        description: clean("description", &meta.description)?,
        connection: clean("connection", &meta.connection)?,
        tags,
    })
}

/// The file a snippet is saved as: its header, a blank line and the text.
fn file_content(name: &str, text: &str, meta: &SnippetMeta) -> String {
    let mut out = format!("-- name: {name}\n");
    if let Some(d) = &meta.description {
        out.push_str(&format!("-- description: {d}\n"));
    }
    if let Some(c) = &meta.connection {
        out.push_str(&format!("-- connection: {c}\n"));
    }
    if !meta.tags.is_empty() {
        out.push_str(&format!("-- tags: {}\n", meta.tags.join(", ")));
    }
    out.push('\n');
    let body = text.trim_start_matches(['\n', '\r']).trim_end();
    out.push_str(body);
    out.push('\n');
    out
}

fn create_private_dir(dir: &Path) -> Result<(), LibraryError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| LibraryError::Io {
        action: "create directory",
        path: dir.to_path_buf(),
        source: e,
    })
}

/// Score tiers of [`rank`]: a better tier always wins; the fuzzy score orders within one.
const TIER: u32 = 1_000_000;
const EXACT_NAME: u32 = 7;
const PREFIX_NAME: u32 = 6;
const FUZZY_NAME: u32 = 5;
const TAGS: u32 = 4;
const DESCRIPTION: u32 = 3;
const TEXT: u32 = 2;
/// The words of the query spread over several fields (`daily athena`: name and tag).
const ANYWHERE: u32 = 1;

/// Ranks `snippets` for the picker's `query`: the indexes of those that match, best first,
/// with their scores. A match in the name beats one in the tags, which beats the description,
/// which beats the text: exact name (or its last `/` part), then name prefix, then fuzzy in
/// the name, then tags, description, text, and last all fields together. The fuzzy matching
/// is fzf's (nucleo): smart case, space-separated words must all match, `^x`, `x$`, `'x` and
/// `!x` work. An empty query lists every snippet alphabetically (score 0).
pub fn rank(query: &str, snippets: &[Snippet]) -> Vec<(usize, u32)> {
    let query = query.trim();
    if query.is_empty() {
        let mut all: Vec<usize> = (0..snippets.len()).collect();
        all.sort_by(|&a, &b| {
            let (a, b) = (&snippets[a], &snippets[b]);
            (a.name.to_lowercase(), &a.name).cmp(&(b.name.to_lowercase(), &b.name))
        });
        return all.into_iter().map(|i| (i, 0)).collect();
    }
    let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
    let mut matcher = Matcher::new(MatcherConfig::DEFAULT);
    let mut buf = Vec::new();
    let mut score = |haystack: &str| pattern.score(Utf32Str::new(haystack, &mut buf), &mut matcher);
    let lower_query = query.to_lowercase();
    let mut ranked: Vec<(usize, u32)> = Vec::new();
    for (i, s) in snippets.iter().enumerate() {
        let name = s.name.to_lowercase();
        let base = name.rsplit('/').next().unwrap_or(&name);
        let name_score = score(&s.name);
        let tier = if name == lower_query || base == lower_query {
            Some((EXACT_NAME, name_score.unwrap_or(0)))
        } else if name.starts_with(&lower_query) || base.starts_with(&lower_query) {
            Some((PREFIX_NAME, name_score.unwrap_or(0)))
        } else if let Some(n) = name_score {
            Some((FUZZY_NAME, n))
        } else if let Some(n) = score(&s.meta.tags.join(" ")) {
            Some((TAGS, n))
        } else if let Some(n) = s.meta.description.as_deref().and_then(&mut score) {
            Some((DESCRIPTION, n))
        } else if let Some(n) = score(&s.text) {
            Some((TEXT, n))
        } else {
            let all = format!(
                "{} {} {} {}",
                s.name,
                s.meta.tags.join(" "),
                s.meta.description.as_deref().unwrap_or(""),
                s.text
            );
            score(&all).map(|n| (ANYWHERE, n))
        };
        if let Some((tier, n)) = tier {
            ranked.push((i, tier * TIER + n.min(TIER - 1)));
        }
    }
    ranked.sort_by(|&(a, sa), &(b, sb)| {
        sb.cmp(&sa)
            .then_with(|| snippets[a].name.len().cmp(&snippets[b].name.len()))
            .then_with(|| snippets[a].name.cmp(&snippets[b].name))
    });
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib() -> (tempfile::TempDir, Library) {
        let tmp = tempfile::tempdir().unwrap();
        let lib = Library::open(tmp.path().join("snippets"));
        (tmp, lib)
    }

    fn write(lib: &Library, rel: &str, content: &str) -> PathBuf {
        let path = lib.dir().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn missing_dir_is_an_empty_library() {
        let (_tmp, lib) = lib();
        let (s, e) = lib.list();
        assert!(s.is_empty() && e.is_empty());
    }

    #[test]
    fn header_metadata_and_text() {
        let (_tmp, lib) = lib();
        write(
            &lib,
            "trips.sql",
            "-- Name: Trips per vendor\n-- description:  Daily counts \n-- author: me\n\
             -- connection: athena prod\n-- tags: trips, daily-2 ,a/b\n\nSELECT 1;\n",
        );
        let (s, e) = lib.list();
        assert!(e.is_empty(), "{e:?}");
        let s = &s[0];
        assert_eq!(s.name, "Trips per vendor");
        assert_eq!(s.rel_path, "trips.sql");
        assert_eq!(s.meta.description.as_deref(), Some("Daily counts"));
        assert_eq!(s.meta.connection.as_deref(), Some("athena prod"));
        assert_eq!(s.meta.tags, ["trips", "daily-2", "a/b"]);
        assert_eq!(s.text, "-- author: me\n\nSELECT 1;\n");
    }

    #[test]
    fn no_header_means_named_after_the_path() {
        let (_tmp, lib) = lib();
        write(&lib, "reports/daily.SQL", "-- just a note\nSELECT 2");
        write(&lib, "top.sql", "\n-- name: not a header\nSELECT 3");
        write(&lib, "notes.txt", "not a snippet");
        write(&lib, ".hidden.sql", "SELECT 4");
        write(&lib, ".git/x.sql", "SELECT 5");
        let (s, e) = lib.list();
        assert!(e.is_empty(), "{e:?}");
        let names: Vec<_> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["reports/daily", "top"]);
        assert_eq!(s[0].text, "-- just a note\nSELECT 2");
        assert_eq!(s[1].text, "\n-- name: not a header\nSELECT 3");
    }

    #[test]
    fn malformed_headers_are_errors_with_file_and_line() {
        let (_tmp, lib) = lib();
        let cases = [
            (
                "empty.sql",
                "-- name: x\n-- tags:\nSELECT 1",
                2,
                "`tags:` has no value",
            ),
            (
                "twice.sql",
                "-- name: a\n-- NAME: b\nSELECT 1",
                2,
                "given twice (first on line 1)",
            ),
            ("badtag.sql", "-- tags: a b\nSELECT 1", 1, "tag `a b`"),
            ("emptytag.sql", "-- tags: a,,b\nSELECT 1", 1, "empty tag"),
            ("trailing.sql", "-- tags: a,\nSELECT 1", 1, "empty tag"),
            (
                "control.sql",
                "-- description: a\u{7}b\nSELECT 1",
                1,
                "control character",
            ),
        ];
        for (file, content, _, _) in cases {
            write(&lib, file, content);
        }
        write(&lib, "good.sql", "SELECT 1");
        let (s, e) = lib.list();
        assert_eq!(s.len(), 1);
        assert_eq!(e.len(), cases.len());
        for (file, content, line, message) in cases {
            let err = e.iter().find(|e| e.path.ends_with(file)).unwrap();
            assert_eq!(err.line, Some(line), "{err}");
            assert!(err.message.contains(message), "{err}");
            assert!(
                err.to_string().contains(&format!("{file}:{line}: ")),
                "{err}"
            );
            assert_eq!(fs::read_to_string(lib.dir().join(file)).unwrap(), content);
        }
        assert!(matches!(lib.find("twice"), Err(LibraryError::Malformed(_))));
    }

    #[test]
    fn non_utf8_file_is_an_error() {
        let (_tmp, lib) = lib();
        write(&lib, "bin.sql", "x");
        fs::write(lib.dir().join("bin.sql"), [0xff, 0xfe, 0x00]).unwrap();
        let (s, e) = lib.list();
        assert!(s.is_empty());
        assert!(e[0].to_string().contains("UTF-8"), "{}", e[0]);
    }

    #[test]
    fn save_writes_a_header_and_never_overwrites_silently() {
        let (_tmp, lib) = lib();
        let meta = SnippetMeta {
            description: Some("Busiest vendors".into()),
            connection: Some("athena-prod".into()),
            tags: vec!["trips".into(), " daily ".into()],
        };
        let s = lib
            .save("Trips per Vendor", "SELECT 1\n\n", &meta, false)
            .unwrap();
        assert_eq!(s.path, lib.dir().join("trips-per-vendor.sql"));
        assert_eq!(
            fs::read_to_string(&s.path).unwrap(),
            "-- name: Trips per Vendor\n-- description: Busiest vendors\n\
             -- connection: athena-prod\n-- tags: trips, daily\n\nSELECT 1\n"
        );
        assert_eq!(s.text, "SELECT 1\n");
        assert_eq!(s.meta.tags, ["trips", "daily"]);
        assert_eq!(lib.find("Trips per Vendor").unwrap(), s);
        assert_eq!(lib.find("trips-per-vendor").unwrap(), s);
        assert_eq!(lib.find("trips-per-vendor.sql").unwrap(), s);

        let err = lib
            .save("Trips per Vendor", "SELECT 2", &meta, false)
            .unwrap_err();
        assert!(matches!(err, LibraryError::Exists { .. }), "{err}");
        assert!(err.to_string().contains("trips-per-vendor.sql"), "{err}");
        // Another name with the same slug is refused too.
        let err = lib
            .save(
                "trips per vendor",
                "SELECT 3",
                &SnippetMeta::default(),
                false,
            )
            .unwrap_err();
        assert!(matches!(err, LibraryError::Exists { .. }), "{err}");
        assert!(fs::read_to_string(&s.path).unwrap().ends_with("SELECT 1\n"));

        let s2 = lib
            .save("Trips per Vendor", "SELECT 2", &meta, true)
            .unwrap();
        assert_eq!(s2.text, "SELECT 2\n");
        let entries: Vec<_> = fs::read_dir(lib.dir()).unwrap().collect();
        assert_eq!(entries.len(), 1, "no temporary file left");
    }

    #[test]
    fn save_into_the_file_of_an_existing_name_and_sub_folders() {
        let (_tmp, lib) = lib();
        write(&lib, "old/file.sql", "-- name: Kept\nSELECT 1");
        let err = lib
            .save("Kept", "SELECT 2", &SnippetMeta::default(), false)
            .unwrap_err();
        assert!(err.to_string().contains("old/file.sql"), "{err}");
        let s = lib
            .save("Kept", "SELECT 2", &SnippetMeta::default(), true)
            .unwrap();
        assert_eq!(s.rel_path, "old/file.sql");
        let s = lib
            .save(
                "../Reports//Daily!",
                "SELECT 3",
                &SnippetMeta::default(),
                false,
            )
            .unwrap();
        assert_eq!(s.rel_path, "reports/daily.sql");
        assert_eq!(s.name, "../Reports//Daily!");
        assert!(s.path.starts_with(lib.dir()));
    }

    #[test]
    fn save_rejects_bad_names_and_meta() {
        let (_tmp, lib) = lib();
        for name in ["", "  ", "?!", "a\nb", "/../"] {
            assert!(
                matches!(
                    lib.save(name, "x", &SnippetMeta::default(), false),
                    Err(LibraryError::InvalidName { .. })
                ),
                "{name:?}"
            );
        }
        let meta = SnippetMeta {
            tags: vec!["a b".into()],
            ..SnippetMeta::default()
        };
        assert!(matches!(
            lib.save("x", "x", &meta, false),
            Err(LibraryError::InvalidMeta(_))
        ));
        assert!(!lib.dir().join("x.sql").exists());
    }

    #[test]
    fn find_reports_ambiguity_and_absence() {
        let (_tmp, lib) = lib();
        write(&lib, "a.sql", "-- name: same\nSELECT 1");
        write(&lib, "b.sql", "-- name: same\nSELECT 2");
        assert!(matches!(
            lib.find("same"),
            Err(LibraryError::Ambiguous { .. })
        ));
        assert_eq!(lib.find("b").unwrap().text, "SELECT 2");
        assert!(matches!(
            lib.find("nope"),
            Err(LibraryError::NotFound { .. })
        ));
    }

    #[test]
    fn non_ascii_names_are_listed_and_found() {
        // Issue 15: `メモ` (6 bytes) and `aé€` made the extension check slice inside a character.
        let (_tmp, lib) = lib();
        write(&lib, "メモ", "not a snippet: no extension");
        write(&lib, "メモ.sql", "SELECT 'メモ'");
        write(&lib, "€.SQL", "SELECT 2");
        let (s, e) = lib.list();
        assert!(e.is_empty(), "{e:?}");
        let names: Vec<_> = s.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["€", "メモ"]);
        assert_eq!(lib.find("メモ").unwrap().text, "SELECT 'メモ'");
        assert_eq!(lib.find("メモ.sql").unwrap().text, "SELECT 'メモ'");
        assert!(matches!(
            lib.find("aé€"),
            Err(LibraryError::NotFound { .. })
        ));
        assert!(!has_sql_extension("é€"));
        assert_eq!(strip_sql("é.sql"), Some("é"));
    }

    fn snippet(name: &str, tags: &[&str], description: &str, text: &str) -> Snippet {
        Snippet {
            name: name.into(),
            rel_path: format!("{name}.sql"),
            path: PathBuf::from(format!("/x/{name}.sql")),
            meta: SnippetMeta {
                description: (!description.is_empty()).then(|| description.into()),
                connection: None,
                tags: tags.iter().map(|t| t.to_string()).collect(),
            },
            text: text.into(),
        }
    }

    #[test]
    fn ranking_order() {
        let snippets = vec![
            snippet("body", &[], "", "SELECT * FROM sales"),
            snippet("tagged", &["sales"], "", "SELECT 1"),
            snippet("described", &[], "monthly sales", "SELECT 1"),
            snippet("s_a_l_e_s_fuzzy", &[], "", "SELECT 1"),
            snippet("sales_by_day", &[], "", "SELECT 1"),
            snippet("sales", &[], "", "SELECT 1"),
            snippet("other", &[], "", "SELECT 1"),
        ];
        let order: Vec<&str> = rank("sales", &snippets)
            .into_iter()
            .map(|(i, _)| snippets[i].name.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "sales",
                "sales_by_day",
                "s_a_l_e_s_fuzzy",
                "tagged",
                "described",
                "body"
            ]
        );
    }

    #[test]
    fn ranking_basename_words_and_empty_query() {
        let snippets = vec![
            snippet("reports/Daily", &[], "", "SELECT 1"),
            snippet("b", &["athena"], "", "SELECT 1"),
            snippet("a", &[], "", "SELECT 1"),
            snippet("daily-athena", &[], "", "SELECT 1"),
        ];
        let names = |q: &str| -> Vec<&str> {
            rank(q, &snippets)
                .into_iter()
                .map(|(i, _)| snippets[i].name.as_str())
                .collect()
        };
        assert_eq!(names("daily")[0], "reports/Daily");
        assert_eq!(names("b athena"), ["b"]);
        assert_eq!(names(""), ["a", "b", "daily-athena", "reports/Daily"]);
        assert!(rank("zzz", &snippets).is_empty());
        let scores: Vec<u32> = rank("  ", &snippets).into_iter().map(|r| r.1).collect();
        assert_eq!(scores, [0, 0, 0, 0]);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Daily Sales").unwrap(), "daily-sales");
        assert_eq!(slug("a/B c/--d--").unwrap(), "a/b-c/d");
        assert_eq!(slug("Zażółć gęślą").unwrap(), "zażółć-gęślą");
        assert_eq!(slug("x.y_z").unwrap(), "x-y_z");
    }
}
