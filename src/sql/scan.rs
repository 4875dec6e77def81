//! A byte-level scanner that recognises the parts of SQL text where `;`, `?` and `:name` are not
//! code: quoted strings and identifiers, comments and PostgreSQL dollar quotes.
//!
//! Every construct it recognises starts and ends on an ASCII byte, so the offsets it returns are
//! always char boundaries even in UTF-8 text with multi-byte characters. Unterminated constructs
//! run to the end of the input. Each byte is looked at a bounded number of times: O(n).

/// What kind of opaque construct starts at a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opaque {
    /// `-- …` or `/* … */`: not code, a piece made only of these is not a statement.
    Comment,
    /// `'…'`, `"…"`, `` `…` ``, `$tag$…$tag$`: code whose content must not be interpreted.
    Quoted,
}

/// If an opaque construct starts at byte `i`, returns its kind and the byte offset just past it.
pub(crate) fn opaque_at(text: &str, i: usize) -> Option<(Opaque, usize)> {
    let b = text.as_bytes();
    match b.get(i)? {
        b'\'' | b'"' | b'`' => Some((Opaque::Quoted, quoted_end(b, i))),
        b'-' if b.get(i + 1) == Some(&b'-') => Some((Opaque::Comment, line_end(b, i))),
        b'/' if b.get(i + 1) == Some(&b'*') => Some((Opaque::Comment, block_end(b, i))),
        b'$' => dollar_end(text, i).map(|end| (Opaque::Quoted, end)),
        _ => None,
    }
}

/// End of a quoted string or identifier opened by the byte at `i`; a doubled quote is an escape.
fn quoted_end(b: &[u8], i: usize) -> usize {
    let quote = b[i];
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == quote {
            if b.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    b.len()
}

/// End of a `--` comment: just before the newline, which stays ordinary whitespace.
fn line_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| i + p)
}

/// End of a `/* … */` comment; nested comments (PostgreSQL, Trino) must close one by one.
fn block_end(b: &[u8], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while j + 1 < b.len() {
        match (b[j], b[j + 1]) {
            (b'/', b'*') => {
                depth += 1;
                j += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                j += 2;
                if depth == 0 {
                    return j;
                }
            }
            _ => j += 1,
        }
    }
    b.len()
}

/// End of a dollar-quoted string (`$$…$$`, `$tag$…$tag$`) starting at `i`, or `None` when the
/// `$` does not open one: `$1` parameters and `$` inside identifiers (`a$b`) are plain code.
fn dollar_end(text: &str, i: usize) -> Option<usize> {
    let b = text.as_bytes();
    if i > 0 && is_ident_byte(b[i - 1]) {
        return None;
    }
    let tag_len = b[i + 1..]
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))?;
    let tag_start = i + 1;
    if b.get(tag_start + tag_len) != Some(&b'$') {
        return None;
    }
    if tag_len > 0 && b[tag_start].is_ascii_digit() {
        return None;
    }
    let body = tag_start + tag_len + 1;
    let delimiter = &text[i..body];
    Some(
        text[body..]
            .find(delimiter)
            .map_or(text.len(), |p| body + p + delimiter.len()),
    )
}

/// Bytes that continue an identifier: ASCII word characters, `$`, and any byte of a multi-byte
/// UTF-8 character (identifiers may be non-ASCII).
pub(crate) fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_construct() {
        assert_eq!(opaque_at("'a''b' x", 0), Some((Opaque::Quoted, 6)));
        assert_eq!(opaque_at("\"a\"\"b\" x", 0), Some((Opaque::Quoted, 6)));
        assert_eq!(opaque_at("`a``b` x", 0), Some((Opaque::Quoted, 6)));
        assert_eq!(opaque_at("-- c\nx", 0), Some((Opaque::Comment, 4)));
        assert_eq!(
            opaque_at("/* a /* b */ c */x", 0),
            Some((Opaque::Comment, 17))
        );
        assert_eq!(opaque_at("$$ ; $$x", 0), Some((Opaque::Quoted, 7)));
        assert_eq!(opaque_at("$fn$ $$ ; $fn$x", 0), Some((Opaque::Quoted, 14)));
    }

    #[test]
    fn plain_code_is_not_opaque() {
        assert_eq!(opaque_at("x", 0), None);
        assert_eq!(opaque_at("-x", 0), None);
        assert_eq!(opaque_at("/x", 0), None);
        assert_eq!(opaque_at("$1 + $2", 0), None);
        assert_eq!(opaque_at("a$b$", 1), None);
        assert_eq!(opaque_at("$", 0), None);
        assert_eq!(opaque_at("$tag", 0), None);
        assert_eq!(opaque_at("", 0), None);
    }

    #[test]
    fn unterminated_constructs_run_to_the_end() {
        for text in [
            "'abc", "\"abc", "`abc", "-- abc", "/* abc", "/* /* */", "$$ abc", "$t$ $t",
        ] {
            assert_eq!(opaque_at(text, 0).map(|o| o.1), Some(text.len()), "{text}");
        }
        assert_eq!(opaque_at("'it''", 0), Some((Opaque::Quoted, 5)));
        assert_eq!(opaque_at("/*/", 0), Some((Opaque::Comment, 3)));
    }
}
