//! The records of CSV text as RFC 4180 defines them: fields separated by commas, records by
//! line breaks (`\n` or `\r\n`); a field in double quotes may hold commas, line breaks and
//! doubled quotes (`""` is one `"`). Blank lines are skipped. Unquoted fields are trimmed of
//! surrounding whitespace, quoted ones are taken verbatim (whitespace around the quotes is
//! allowed).
//!
//! A line without a quote, the common case, is split in place without copying; only a quoted
//! field holding a doubled quote is copied.

use crate::error::{Error, Result};
use std::borrow::Cow;

/// One record: its first two fields (empty when absent), how many fields it has, the 1-based
/// line it starts on and its text (for messages).
pub(crate) struct Record<'a> {
    pub line: usize,
    pub fields: [Cow<'a, str>; 2],
    pub n_fields: usize,
    pub text: &'a str,
}

/// The records of `text`, in order.
pub(crate) struct Records<'a> {
    text: &'a str,
    pos: usize,
    /// Lines consumed so far.
    line: usize,
}

impl<'a> Records<'a> {
    pub fn new(text: &'a str) -> Self {
        Records {
            text,
            pos: 0,
            line: 0,
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = self.text.get(self.pos..).filter(|r| !r.is_empty())?;
            let eol = rest.find('\n');
            let raw = eol.map_or(rest, |e| &rest[..e]);
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.contains('"') {
                return Some(self.quoted());
            }
            self.pos += raw.len() + usize::from(eol.is_some());
            self.line += 1;
            if line.trim().is_empty() {
                continue;
            }
            let mut parts = line.split(',');
            let a = parts.next().unwrap_or("");
            let b = parts.next();
            let n_fields = 1 + usize::from(b.is_some()) + parts.count();
            return Some(Ok(Record {
                line: self.line,
                fields: [
                    Cow::Borrowed(a.trim()),
                    Cow::Borrowed(b.unwrap_or("").trim()),
                ],
                n_fields,
                text: line,
            }));
        }
    }
}

impl<'a> Records<'a> {
    /// The record at `self.pos`, which holds a quote somewhere on its first line.
    fn quoted(&mut self) -> Result<Record<'a>> {
        let text = self.text;
        let b = text.as_bytes();
        let start = self.pos;
        let first_line = self.line + 1;
        let mut i = start;
        let mut fields: [Cow<'a, str>; 2] = [Cow::Borrowed(""), Cow::Borrowed("")];
        let mut n_fields = 0;
        let mut newlines = 0;
        let is_blank = |c: u8| c == b' ' || c == b'\t';
        loop {
            while i < b.len() && is_blank(b[i]) {
                i += 1;
            }
            let field: Cow<'a, str> = if i < b.len() && b[i] == b'"' {
                i += 1;
                let mut seg = i;
                let mut owned: Option<String> = None;
                let field = loop {
                    let Some(q) = text[i..].find('"').map(|q| q + i) else {
                        return Err(Error::parse(
                            first_line,
                            "a quoted field is not closed before the end of the file",
                        ));
                    };
                    newlines += text[i..q].bytes().filter(|&c| c == b'\n').count();
                    if b.get(q + 1) == Some(&b'"') {
                        // a doubled quote is one quote
                        owned
                            .get_or_insert_with(String::new)
                            .push_str(&text[seg..=q]);
                        i = q + 2;
                        seg = i;
                        continue;
                    }
                    i = q + 1;
                    break match owned {
                        Some(mut s) => {
                            s.push_str(&text[seg..q]);
                            Cow::Owned(s)
                        }
                        None => Cow::Borrowed(&text[seg..q]),
                    };
                };
                while i < b.len() && is_blank(b[i]) {
                    i += 1;
                }
                let end = b.get(i).copied();
                let at_end = matches!(end, None | Some(b',' | b'\n'))
                    || (end == Some(b'\r') && matches!(b.get(i + 1), None | Some(b'\n')));
                if !at_end {
                    return Err(Error::parse(
                        first_line + newlines,
                        "text after the closing quote of a field (a quote inside a quoted \
                         field is written twice: \"\")",
                    ));
                }
                field
            } else {
                let from = i;
                while i < b.len() && b[i] != b',' && b[i] != b'\n' {
                    if b[i] == b'"' {
                        return Err(Error::parse(
                            first_line + newlines,
                            "a quote inside an unquoted field (quote the whole field and \
                             write the quote twice)",
                        ));
                    }
                    i += 1;
                }
                Cow::Borrowed(text[from..i].trim())
            };
            if n_fields < 2 {
                fields[n_fields] = field;
            }
            n_fields += 1;
            if b.get(i) == Some(&b',') {
                i += 1;
                continue;
            }
            break;
        }
        let mut end = i;
        if b.get(end) == Some(&b'\r') {
            end += 1;
        }
        let record_text = text[start..i].trim_end_matches('\r');
        if b.get(end) == Some(&b'\n') {
            end += 1;
        }
        self.pos = end;
        self.line += 1 + newlines;
        Ok(Record {
            line: first_line,
            fields,
            n_fields,
            text: record_text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<(usize, Vec<String>, usize)> {
        Records::new(text)
            .map(|r| {
                let r = r.unwrap();
                (
                    r.line,
                    r.fields.iter().map(|f| f.to_string()).collect(),
                    r.n_fields,
                )
            })
            .collect()
    }

    /// The examples of RFC 4180 section 2, worked by hand.
    #[test]
    fn rfc_4180_examples() {
        let v = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
        assert_eq!(
            all("aaa,bbb,ccc\r\nzzz,yyy,xxx\r\n"),
            vec![(1, v("aaa", "bbb"), 3), (2, v("zzz", "yyy"), 3)]
        );
        assert_eq!(
            all("aaa,bbb\nzzz,yyy"),
            vec![(1, v("aaa", "bbb"), 2), (2, v("zzz", "yyy"), 2)]
        );
        assert_eq!(all("\"aaa\",\"bbb\"\n"), vec![(1, v("aaa", "bbb"), 2)]);
        // a line break and a comma inside quotes; the next record starts two lines on
        assert_eq!(
            all("\"a\nb\",\"1,5\"\r\nc,d\n"),
            vec![(1, v("a\nb", "1,5"), 2), (3, v("c", "d"), 2)]
        );
        assert_eq!(
            all("\"aaa\",\"b\"\"bb\"\n"),
            vec![(1, v("aaa", "b\"bb"), 2)]
        );
        assert_eq!(
            all(" \"x\" , y \n\n\nz,\"\"\n"),
            vec![(1, v("x", "y"), 2), (4, v("z", ""), 2)]
        );
        assert_eq!(all("\"only\""), vec![(1, v("only", ""), 1)]);
    }

    #[test]
    fn broken_quotes_name_their_line() {
        let err = |t: &str| match Records::new(t).find_map(|r| r.err()) {
            Some(Error::Parse { line, message }) => (line, message),
            other => panic!("{other:?}"),
        };
        assert_eq!(err("a,b\n\"open,1\n").0, 2);
        assert!(err("a,b\n\"x\"y,1\n").1.contains("after the closing quote"));
        assert!(err("a,b\nc,\"1\"\nd,e\"f\n")
            .1
            .contains("inside an unquoted field"));
        assert_eq!(err("a,b\n\"two\nlines\",1\nx,\"y\"z\n").0, 4);
    }
}
