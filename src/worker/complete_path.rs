//! Tab completion of a path typed in the export form.

/// Completes the last component of `typed` to the longest prefix shared by the entries that
/// start with it (directories get a `/`). Reads one directory, on the worker: a slow or huge
/// one (a network mount) never stalls the UI.
pub fn complete_path(typed: &str) -> String {
    let (dir_part, prefix) = match typed.rfind('/') {
        Some(i) => (&typed[..=i], &typed[i + 1..]),
        None => ("", typed),
    };
    let dir = if dir_part.is_empty() {
        std::path::PathBuf::from(".")
    } else {
        crate::store::paths::expand_home(dir_part)
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return typed.to_string();
    };
    let mut matches: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !name.starts_with(prefix) || (prefix.is_empty() && name.starts_with('.')) {
                return None;
            }
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            Some(if is_dir { format!("{name}/") } else { name })
        })
        .collect();
    matches.sort();
    let Some(first) = matches.first() else {
        return typed.to_string();
    };
    let common = matches.iter().fold(first.clone(), |acc, m| {
        acc.chars()
            .zip(m.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a)
            .collect()
    });
    format!("{dir_part}{common}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_completes_the_path_from_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("reports")).unwrap();
        std::fs::write(dir.path().join("results-a.csv"), "").unwrap();
        std::fs::write(dir.path().join("results-b.csv"), "").unwrap();
        let base = format!("{}/", dir.path().display());
        assert_eq!(
            complete_path(&format!("{base}rep")),
            format!("{base}reports/")
        );
        assert_eq!(
            complete_path(&format!("{base}res")),
            format!("{base}results-")
        );
        assert_eq!(complete_path(&format!("{base}zzz")), format!("{base}zzz"));
    }
}
