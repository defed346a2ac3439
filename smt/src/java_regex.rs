//! Java `Pattern` syntax errors as Java words them (`Unclosed character class near index 3`
//! and the pattern with a caret), for patterns the regex crate compiles; and the one error
//! Java raises that the regex crate accepts: a second quantifier (`a**`).

use regex_syntax::ast::{ErrorKind, parse::Parser};

/// `PatternSyntaxException.getMessage()`: the description, ` near index i`, the pattern,
/// and a caret under index `i` when it falls inside the pattern.
fn java_message(pattern: &str, desc: &str, index: usize) -> String {
    let len = pattern.chars().count();
    let caret = if index < len {
        format!("\n{}^", " ".repeat(index))
    } else {
        String::new()
    };
    format!("{desc} near index {index}\n{pattern}{caret}")
}

/// The character index of byte offset `at` in `pattern`.
fn char_index(pattern: &str, at: usize) -> usize {
    pattern[..at.min(pattern.len())].chars().count()
}

/// A quantifier directly after a quantifier and its optional lazy (`?`) or possessive (`+`)
/// mark: Java's "Dangling meta character"; the regex crate reads `a**` as `(a*)*`.
fn second_quantifier(pattern: &str) -> Option<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let (mut i, mut in_class, mut after) = (0, false, 0u8);
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                i += 2;
                after = 0;
                continue;
            }
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            _ if in_class => {}
            '*' | '+' | '?' => {
                if after == 2 || (after == 1 && c == '*') {
                    return Some(java_message(
                        pattern,
                        &format!("Dangling meta character '{c}'"),
                        i,
                    ));
                }
                after = if after == 1 { 2 } else { 1 };
                i += 1;
                continue;
            }
            '}' => {
                after = 1;
                i += 1;
                continue;
            }
            _ => {}
        }
        after = 0;
        i += 1;
    }
    None
}

/// Java's message for a pattern Java refuses, where the regex crate's parser says why.
pub fn syntax_error(pattern: &str) -> Option<String> {
    let len = pattern.chars().count();
    let Err(e) = Parser::new().parse(pattern) else {
        return second_quantifier(pattern);
    };
    let span = e.span();
    let (start, end) = (
        char_index(pattern, span.start.offset),
        char_index(pattern, span.end.offset),
    );
    let (desc, index) = match e.kind() {
        ErrorKind::ClassUnclosed => (
            "Unclosed character class".to_string(),
            len.saturating_sub(1),
        ),
        ErrorKind::GroupUnclosed => ("Unclosed group".to_string(), len),
        ErrorKind::GroupUnopened => ("Unmatched closing ')'".to_string(), start.saturating_sub(1)),
        ErrorKind::RepetitionMissing => {
            let c = pattern.chars().nth(start).unwrap_or('*');
            (format!("Dangling meta character '{c}'"), start)
        }
        ErrorKind::RepetitionCountUnclosed => ("Unclosed counted closure".to_string(), len),
        ErrorKind::RepetitionCountInvalid => (
            "Illegal repetition range".to_string(),
            end.saturating_sub(1),
        ),
        ErrorKind::RepetitionCountDecimalEmpty => ("Illegal repetition".to_string(), start),
        ErrorKind::ClassRangeInvalid => {
            ("Illegal character range".to_string(), end.saturating_sub(1))
        }
        ErrorKind::GroupNameDuplicate { .. } => {
            let name: String = pattern.chars().skip(start).take(end - start).collect();
            (
                format!("Named capturing group <{name}> is already defined"),
                end,
            )
        }
        ErrorKind::GroupNameInvalid => (
            "capturing group name does not start with a Latin letter".to_string(),
            start,
        ),
        ErrorKind::EscapeUnexpectedEof => ("Unexpected internal error".to_string(), len),
        _ => return None,
    };
    Some(java_message(pattern, &desc, index))
}

#[cfg(test)]
mod tests {
    use super::syntax_error;

    #[test]
    fn java_words_syntax_errors_with_its_index_and_caret() {
        // Each expectation is what Java 17's Pattern.compile throws (checked with the oracle).
        for (pattern, message) in [
            ("[", "Unclosed character class near index 0\n[\n^"),
            ("[abc", "Unclosed character class near index 3\n[abc\n   ^"),
            ("[[a]", "Unclosed character class near index 3\n[[a]\n   ^"),
            ("(", "Unclosed group near index 1\n("),
            ("a(b", "Unclosed group near index 3\na(b"),
            ("*a", "Dangling meta character '*' near index 0\n*a\n^"),
            ("a|*", "Dangling meta character '*' near index 2\na|*\n  ^"),
            ("a**", "Dangling meta character '*' near index 2\na**\n  ^"),
            ("a{2", "Unclosed counted closure near index 3\na{2"),
            ("a)", "Unmatched closing ')' near index 0\na)\n^"),
            ("\\", "Unexpected internal error near index 1\n\\"),
            (
                "x{3,1}",
                "Illegal repetition range near index 5\nx{3,1}\n     ^",
            ),
            ("[z-a]", "Illegal character range near index 3\n[z-a]\n   ^"),
            (
                "(?<n>a)(?<n>b)",
                "Named capturing group <n> is already defined near index 11\n(?<n>a)(?<n>b)\n           ^",
            ),
            (
                "(?<1a>x)",
                "capturing group name does not start with a Latin letter near index 3\n(?<1a>x)\n   ^",
            ),
        ] {
            assert_eq!(syntax_error(pattern).as_deref(), Some(message), "{pattern}");
        }
        for fine in ["a*?", "a++", "(.*)-(.*)", "[*+]", "a{2}?", "\\*\\*"] {
            assert_eq!(syntax_error(fine), None, "{fine}");
        }
    }
}
