//! Which way imports point (issue 17): the rules that hold today, checked by reading the
//! sources, so a change that breaks one fails here with the file and line. Test code (`tests.rs`
//! files, `tests/` folders, `#[cfg(test)]` modules at the end of a file) may reach further.

use std::path::{Path, PathBuf};

/// The crate's source folder.
fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, test files left out.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if name != "tests" {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") && name != "tests.rs" {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The lines of `file` that are not test code, numbered from 1: a `#[cfg(test)]` item of one
/// line (`mod tests;`) is skipped, and an inline test module ends the file's code.
fn code_lines(file: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "#[cfg(test)]" {
            match lines.get(i + 1) {
                Some(next) if next.trim_end().ends_with(';') => {
                    i += 2;
                    continue;
                }
                _ => break,
            }
        }
        out.push((i + 1, lines[i].to_string()));
        i += 1;
    }
    out
}

/// Every place under `src/<layer>` that names one of the `forbidden` top-level modules.
fn violations(layer: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in sources(&src().join(layer)) {
        for (n, line) in code_lines(&file) {
            let code = line.split("//").next().unwrap_or("");
            for module in forbidden {
                if code.contains(&format!("crate::{module}")) {
                    found.push(format!("{}:{n}: {}", file.display(), line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn the_model_layer_imports_nothing_of_the_crate_nor_runtime_or_terminal_types() {
    let mut found = violations(
        "model",
        &[
            "app",
            "ui",
            "worker",
            "connectors",
            "store",
            "cli",
            "tui",
            "results",
            "export",
            "sql",
            "panics",
        ],
    );
    for file in sources(&src().join("model")) {
        for (n, line) in code_lines(&file) {
            for outside in ["tokio", "ratatui", "crossterm", "aws_"] {
                if line.trim_start().starts_with("use ") && line.contains(outside) {
                    found.push(format!("{}:{n}: {}", file.display(), line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "model must stay a leaf:\n{}",
        found.join("\n")
    );
}

#[test]
fn store_imports_neither_app_nor_ui_nor_connectors() {
    let found = violations("store", &["app", "ui", "connectors", "worker", "tui"]);
    assert!(found.is_empty(), "store reaches up:\n{}", found.join("\n"));
}

#[test]
fn ui_imports_neither_worker_nor_connectors() {
    let found = violations("ui", &["worker", "connectors", "tui"]);
    assert!(
        found.is_empty(),
        "ui reaches past app:\n{}",
        found.join("\n")
    );
}

#[test]
fn app_does_no_file_io_and_never_waits() {
    let mut found = Vec::new();
    for file in sources(&src().join("app")) {
        for (n, line) in code_lines(&file) {
            let code = line.split("//").next().unwrap_or("");
            for banned in ["std::fs", "tokio::", ".await", "crate::tui"] {
                if code.contains(banned) {
                    found.push(format!("{}:{n}: {}", file.display(), line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "app must stay pure:\n{}",
        found.join("\n")
    );
}
