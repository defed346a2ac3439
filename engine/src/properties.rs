//! Java `.properties` files (`java.util.Properties.load`): `key=value`, `key: value` or
//! `key value`, `#`/`!` comments, backslash line continuations and escapes (`\t`, `\uXXXX`).

use std::collections::BTreeMap;

/// String properties as read from a file or a REST body.
pub type Props = BTreeMap<String, String>;

/// Parses properties text. Later duplicates win, as in Java.
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(first) = lines.next() {
        let trimmed = first.trim_start_matches([' ', '\t', '\x0c']);
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
            continue;
        }
        // Join continuation lines: an odd number of trailing backslashes continues the line.
        let mut logical = String::from(trimmed);
        while ends_with_odd_backslashes(&logical) {
            logical.pop();
            match lines.next() {
                Some(next) => logical.push_str(next.trim_start_matches([' ', '\t', '\x0c'])),
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        out.insert(unescape(key), unescape(value));
    }
    out
}

fn ends_with_odd_backslashes(s: &str) -> bool {
    s.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

fn split_key_value(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut key_end = line.len();
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' | b'\x0c' => {
                key_end = i;
                break;
            }
            _ => i += 1,
        }
    }
    let key_end = key_end.min(line.len());
    let mut rest = &line[key_end..];
    rest = rest.trim_start_matches([' ', '\t', '\x0c']);
    if let Some(r) = rest.strip_prefix(['=', ':']) {
        rest = r.trim_start_matches([' ', '\t', '\x0c']);
    }
    (&line[..key_end], rest)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_java_properties() {
        let p = parse(
            "# comment\n! also\n  name=local-file-source\nconnector.class : FileStreamSource\ntasks.max 1\n\
             file=/tmp/a\\\n   b.txt\nweird\\=key=v\\u0041\\t\nempty=\nflag\n",
        );
        assert_eq!(p["name"], "local-file-source");
        assert_eq!(p["connector.class"], "FileStreamSource");
        assert_eq!(p["tasks.max"], "1");
        assert_eq!(p["file"], "/tmp/ab.txt");
        assert_eq!(p["weird=key"], "vA\t");
        assert_eq!(p["empty"], "");
        assert_eq!(p["flag"], "");
        assert_eq!(p.len(), 7);
    }
}
