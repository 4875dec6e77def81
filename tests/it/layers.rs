//! The rules of the architecture (issue 17, DESIGN.md), checked by reading the sources, so a
//! change that breaks one fails here with the file and line: which way imports point, no cycle
//! between top-level modules, rooms of a reasonable size, no `unwrap` outside tests. Test code
//! (`tests.rs` files, `tests/` folders, `#[cfg(test)]` modules at the end of a file) may reach
//! further and grow longer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Longest source file, in lines of non-test code.
const MAX_FILE_LINES: usize = 700;
/// Longest function, in lines from its signature to its closing brace.
const MAX_FN_LINES: usize = 80;

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
            } else if name.ends_with(".rs") && name != "tests.rs" && name != "fuzz_tests.rs" {
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
fn app_reaches_no_worker_ui_connectors_or_entry_point() {
    let found = violations("app", &["worker", "ui", "connectors", "tui", "cli"]);
    assert!(
        found.is_empty(),
        "app talks to the worker only through the protocol and to services through the model:\n{}",
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

/// The top-level module a source file belongs to (`app` for `src/app/update.rs`), or `None`
/// for the crate roots.
fn top_module(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src()).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// Which top-level modules each one names, with one place where it does.
fn module_graph() -> BTreeMap<String, BTreeMap<String, String>> {
    let modules: BTreeSet<String> = sources(&src())
        .iter()
        .filter_map(|f| top_module(f))
        .collect();
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in sources(&src()) {
        let Some(from) = top_module(&file) else {
            continue;
        };
        for (n, line) in code_lines(&file) {
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices("crate::") {
                let rest = &code[i + "crate::".len()..];
                let to: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if to != from && modules.contains(&to) {
                    graph
                        .entry(from.clone())
                        .or_default()
                        .entry(to)
                        .or_insert_with(|| format!("{}:{n}", file.display()));
                }
            }
        }
    }
    graph
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let graph = module_graph();
    // Depth-first search from every module; a module met again on the current path closes a
    // cycle, reported with the place of each import along it.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeMap<String, String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut Vec<String>,
    ) {
        if let Some(start) = path.iter().position(|p| p == node) {
            let mut hops = Vec::new();
            let cycle: Vec<&String> = path[start..].iter().chain([&path[start]]).collect();
            for pair in cycle.windows(2) {
                hops.push(format!(
                    "{} -> {} ({})",
                    pair[0], pair[1], graph[pair[0]][pair[1]]
                ));
            }
            cycles.push(hops.join(", "));
            return;
        }
        if done.contains(node) {
            return;
        }
        path.push(node.to_string());
        for next in graph
            .get(node)
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            visit(&next, graph, path, done, cycles);
        }
        path.pop();
        done.insert(node.to_string());
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn no_source_file_is_over_the_size_limit() {
    let too_long: Vec<String> = sources(&src())
        .into_iter()
        .map(|f| (code_lines(&f).len(), f))
        .filter(|(n, _)| *n > MAX_FILE_LINES)
        .map(|(n, f)| format!("{}: {n} lines of code", f.display()))
        .collect();
    assert!(
        too_long.is_empty(),
        "files over {MAX_FILE_LINES} lines hold more than one job; split them by concern:\n{}",
        too_long.join("\n")
    );
}

/// Whether `line` starts a function (`fn`, `pub fn`, `pub(crate) async fn`, …) with a body.
fn starts_function(line: &str) -> bool {
    let mut words = line.split_whitespace().peekable();
    while let Some(w) = words.next() {
        match w {
            "fn" => return words.peek().is_some(),
            "async" | "const" | "unsafe" | "extern" => {}
            w if w.starts_with("pub") => {}
            _ => return false,
        }
    }
    false
}

#[test]
fn no_function_is_over_the_size_limit() {
    let mut too_long = Vec::new();
    for file in sources(&src()) {
        let lines = code_lines(&file);
        for (i, (n, line)) in lines.iter().enumerate() {
            if !starts_function(line) || line.trim_end().ends_with(';') {
                continue;
            }
            // The body ends at the first line at the signature's indentation that closes it.
            let indent = line.len() - line.trim_start().len();
            let end = lines[i + 1..].iter().position(|(_, l)| {
                l.len() > indent && l[..indent].trim().is_empty() && l[indent..].starts_with('}')
            });
            if let Some(len) = end.map(|e| e + 2).filter(|len| *len > MAX_FN_LINES) {
                too_long.push(format!(
                    "{}:{n}: {len} lines: {}",
                    file.display(),
                    line.trim()
                ));
            }
        }
    }
    assert!(
        too_long.is_empty(),
        "functions over {MAX_FN_LINES} lines hold more than one step; split them:\n{}",
        too_long.join("\n")
    );
}

#[test]
fn unwrap_is_denied_outside_tests() {
    for root in ["lib.rs", "main.rs"] {
        let text = std::fs::read_to_string(src().join(root)).expect("the crate root");
        assert!(
            text.contains("#![cfg_attr(not(test), deny(clippy::unwrap_used))]"),
            "src/{root} must deny clippy::unwrap_used outside tests"
        );
    }
}
