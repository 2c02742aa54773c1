//! Making untrusted text safe to show. Commands, URLs and field values come
//! from YAML that arrives through pull requests and end up on terminals
//! (where `\r` or an escape sequence can overwrite the line that asks for
//! approval) and in pull-request comments (where a password in a URL is
//! published). Every renderer — CLI, MCP, Markdown review — goes through the
//! two functions here, so there is one definition of "safe to show":
//! [`escape_controls`] and [`redact_urls`] ([`shown`] applies both).

use std::borrow::Cow;

/// Characters that change how text looks without being visible: C0 and C1
/// controls, DEL, and the Unicode bidirectional overrides and isolates.
fn is_hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character (and bidirectional override) written
/// as an escape (`\r`, `\n`, `\t`, `\u{1b}`, `\u{202e}`). Text without any is
/// returned unchanged; text with some also gets its backslashes doubled, so
/// a literal `\r` (two characters) and a carriage return never look alike.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_hidden(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` with the credentials of every URL in it hidden:
/// `http://user:pass@host` → `http://user:***@host`, and a user part alone
/// (often a token: `https://ghp_x@host`) → `https://***@host`. Works on URLs
/// embedded in longer text (a reason, an error message).
pub fn redact_urls(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        // The authority ends at the first `/`, `\`, `?`, `#` or space; its
        // userinfo ends at the last `@` inside it. Tabs and line breaks do
        // not end it: URL parsers delete them (`u:p\n@host` is `u:p@host`).
        let end = tail
            .find(|c: char| {
                matches!(c, '/' | '\\' | '?' | '#') || (c.is_whitespace() && !matches!(c, '\t' | '\n' | '\r'))
            })
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) if !user.is_empty() => {
                        out.push_str(user);
                        out.push_str(":***");
                    }
                    _ => out.push_str("***"),
                }
                out.push_str(&authority[at..]);
                changed = true;
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    if changed { Cow::Owned(out) } else { Cow::Borrowed(text) }
}

/// Untrusted text as it may be shown: credentials redacted, controls escaped.
pub fn shown(text: &str) -> String {
    escape_controls(&redact_urls(text)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_plain_text_is_untouched() {
        assert_eq!(escape_controls("echo a\\b | tr x y"), "echo a\\b | tr x y");
        assert_eq!(escape_controls("rm -rf ~\rtrue"), "rm -rf ~\\rtrue");
        assert_eq!(escape_controls("a\\r\r"), "a\\\\r\\r");
        assert_eq!(escape_controls("x\u{1b}[2Ky\u{202e}z\u{85}"), "x\\u{1b}[2Ky\\u{202e}z\\u{85}");
        assert_eq!(escape_controls("l1\nl2\t"), "l1\\nl2\\t");
        assert_eq!(escape_controls("café ✓"), "café ✓");
    }

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(
            redact_urls("GET http://user:pass@host:8080/h: HTTP 200"),
            "GET http://user:***@host:8080/h: HTTP 200"
        );
        assert_eq!(redact_urls("https://tok3n@example.com/x"), "https://***@example.com/x");
        assert_eq!(redact_urls("https://:pw@h"), "https://***@h");
        assert_eq!(redact_urls("http://u:p@a/ and ftp://v:q@b"), "http://u:***@a/ and ftp://v:***@b");
        assert_eq!(redact_urls("http://u:p@w@host/"), "http://u:***@host/");
        assert_eq!(redact_urls("http://host/path@x"), "http://host/path@x");
        assert_eq!(redact_urls("no url: a@b"), "no url: a@b");
        assert_eq!(redact_urls("http://host?q=a@b"), "http://host?q=a@b");
        // URL parsers drop tabs and line breaks, so they do not end the userinfo.
        assert_eq!(redact_urls("http://u:p\n@host/"), "http://u:***@host/");
    }

    #[test]
    fn shown_does_both() {
        assert_eq!(shown("http://u:p@h/\r"), "http://u:***@h/\\r");
    }
}
