//! `quarry run --param`: the values given on the command line, shared out among the
//! statements by the parameters each one uses.

/// `--param name=value` values for the `:name` parameters of each statement (Redshift Data).
pub(super) fn named_param_values(
    statements: &[String],
    params: &[String],
) -> Result<Vec<Vec<String>>, String> {
    let mut given: Vec<(&str, &str)> = Vec::new();
    for p in params {
        let Some((name, value)) = p.split_once('=') else {
            return Err(format!(
                "--param `{p}`: Redshift Data parameters are given as name=value (for `:name`)"
            ));
        };
        given.push((name.trim().trim_start_matches(':'), value));
    }
    let mut used = vec![false; given.len()];
    let mut all = Vec::new();
    for sql in statements {
        let mut values = Vec::new();
        for name in crate::sql::named_params(sql) {
            let Some(i) = given.iter().position(|(n, _)| *n == name) else {
                return Err(format!(
                    "the SQL uses `:{name}` but no --param {name}=VALUE was given"
                ));
            };
            used[i] = true;
            values.push(given[i].1.to_string());
        }
        all.push(values);
    }
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(format!(
            "--param {}: the SQL has no `:{}` parameter",
            params[i], given[i].0
        ));
    }
    Ok(all)
}

/// Splits the `--param` values among the statements by their `?` counts.
pub(super) fn split_params(
    statements: &[String],
    params: &[String],
) -> Result<Vec<Vec<String>>, String> {
    let counts: Vec<usize> = statements
        .iter()
        .map(|s| crate::sql::positional_count(s))
        .collect();
    if params.iter().any(|p| p.trim().is_empty()) {
        return Err("a --param value is empty: give an SQL literal such as '' or NULL".into());
    }
    let total: usize = counts.iter().sum();
    if total != params.len() {
        return Err(format!(
            "the SQL has {total} `?` placeholder(s) but {} --param value(s) were given",
            params.len()
        ));
    }
    let mut rest = params;
    Ok(counts
        .into_iter()
        .map(|n| {
            let (mine, others) = rest.split_at(n);
            rest = others;
            mine.to_vec()
        })
        .collect())
}
