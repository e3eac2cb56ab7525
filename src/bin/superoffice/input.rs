//! The CSV input: a header row naming the columns, then one e-mail per row.

use std::path::Path;

use crate::args::UsageError;

/// One e-mail to send, from one CSV row (or from the options).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The row's line in the CSV file (1 is the header); 0 for a single send.
    pub line: u64,
    /// The person's id; for a row by address, the one its address resolved to (0 until then).
    pub person_id: i32,
    /// A row of a CSV of addresses (a `to` column and no `person_id`): its person is looked
    /// up by its `to`, and the journal keys it by address and subject.
    pub by_address: bool,
    pub from: Option<String>,
    pub to: Option<String>,
    pub subject: Option<String>,
}

impl Row {
    /// How a row is named in messages: `line 12: person 670 -> kari@example.com`
    /// (`line 12: kari@example.com (person 670)` for a row by address).
    pub fn describe(&self) -> String {
        let to = self.to.as_deref().unwrap_or("(no To)");
        if self.by_address {
            let who = if self.person_id > 0 { format!("person {}", self.person_id) } else { "person not resolved".into() };
            return if self.line == 0 { format!("{to} ({who})") } else { format!("line {}: {to} ({who})", self.line) };
        }
        if self.line == 0 {
            format!("person {} -> {}", self.person_id, to)
        } else {
            format!("line {}: person {} -> {}", self.line, self.person_id, to)
        }
    }
}

/// A row that is not sent, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    pub line: u64,
    pub reason: String,
}

/// Values given once as options, for every row.
#[derive(Clone, Debug, Default)]
pub struct Defaults {
    pub from: Option<String>,
    pub to: Option<String>,
    pub subject: Option<String>,
}

/// What a CSV file holds.
#[derive(Debug, Default)]
pub struct Input {
    pub rows: Vec<Row>,
    pub bad: Vec<BadRow>,
    /// Data rows in the file, bad ones included.
    pub total: usize,
}

/// Where each field is.
struct Columns {
    /// `None`: a CSV of addresses (rows are resolved by their `to`).
    person_id: Option<usize>,
    from: Option<usize>,
    to: Option<usize>,
    subject: Option<usize>,
    count: usize,
}

/// Shows a user's value in a message: at most 40 characters, control characters as `?`.
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text.chars().take(40).map(|c| if c.is_control() { '?' } else { c }).collect();
    if text.chars().count() > 40 {
        out.push_str("...");
    }
    out
}

fn columns(header: &csv::ByteRecord, defaults: &Defaults) -> Result<Columns, UsageError> {
    let mut names = Vec::with_capacity(header.len());
    for (i, field) in header.iter().enumerate() {
        let field = if i == 0 { field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field) } else { field };
        let name = std::str::from_utf8(field)
            .map_err(|_| format!("the CSV header's column {} is not valid UTF-8", i + 1))?;
        names.push(name.trim().to_ascii_lowercase());
    }
    let find = |name: &str| -> Result<Option<usize>, UsageError> {
        let mut found = names.iter().enumerate().filter(|(_, n)| *n == name).map(|(i, _)| i);
        let first = found.next();
        if found.next().is_some() {
            return Err(format!("the CSV header names the column '{name}' twice").into());
        }
        Ok(first)
    };
    // Without person_id, a `to` column makes a CSV of addresses.
    let person_id = find("person_id")?;
    if person_id.is_none() && (find("to")?.is_none() || defaults.to.is_some()) {
        return Err(UsageError(format!(
            "the CSV header has no 'person_id' column (it has: {}); the header row names \
             person_id, from, to and subject, in any order (or to without person_id: each \
             row's person is then looked up by its address)",
            names.join(", ")
        )));
    }
    let optional = |name: &str, default: &Option<String>| -> Result<Option<usize>, UsageError> {
        let column = find(name)?;
        if column.is_some() && default.is_some() {
            return Err(format!(
                "--{name} is given and the CSV has a '{name}' column: give one or the other"
            )
            .into());
        }
        Ok(column)
    };
    Ok(Columns {
        person_id,
        from: optional("from", &defaults.from)?,
        to: optional("to", &defaults.to)?,
        subject: optional("subject", &defaults.subject)?,
        count: names.len(),
    })
}

/// Checks one data row.
fn row(record: &csv::ByteRecord, line: u64, c: &Columns, defaults: &Defaults) -> Result<Row, String> {
    let needed = [c.person_id, c.from, c.to, c.subject].into_iter().flatten().max().unwrap_or(0) + 1;
    if record.len() < needed {
        return Err(format!("has {} fields; the header has {}", record.len(), c.count));
    }
    let text = |index: usize, name: &str| -> Result<&str, String> {
        std::str::from_utf8(&record[index]).map_err(|_| format!("the {name} field is not valid UTF-8"))
    };
    let person_id = match c.person_id {
        None => 0,
        Some(column) => {
            let id_text = text(column, "person_id")?;
            match id_text.parse::<i64>() {
                Ok(id) if (1..=i64::from(i32::MAX)).contains(&id) => id as i32,
                _ => {
                    return Err(format!(
                        "person_id '{}' is not a positive integer (1 to {})",
                        shown(id_text.as_bytes()),
                        i32::MAX
                    ))
                }
            }
        }
    };
    let field = |column: Option<usize>, name: &str, default: &Option<String>| -> Result<Option<String>, String> {
        match column {
            Some(i) => {
                let v = text(i, name)?;
                Ok((!v.is_empty()).then(|| v.to_string()))
            }
            None => Ok(default.clone()),
        }
    };
    let to = field(c.to, "to", &defaults.to)?;
    let by_address = c.person_id.is_none();
    if by_address {
        match to.as_deref() {
            None => return Err("the to field is empty: there is no address to look the person up by".into()),
            Some(address) => superoffice::person::checked_address(address).map_err(|e| e.message)?,
        };
    }
    Ok(Row { line, person_id, by_address, from: field(c.from, "from", &defaults.from)?, to, subject: field(c.subject, "subject", &defaults.subject)? })
}

/// Lines of records, counted once through the file as the records come in order.
///
/// The csv crate's own line count points at the first blank line before a record, so
/// the line is found from the record's byte offset, past any line ends there.
struct Lines<'a> {
    bytes: &'a [u8],
    at: usize,
    newlines: u64,
}

impl Lines<'_> {
    fn of_record_at(&mut self, offset: u64) -> u64 {
        let mut start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.bytes.len());
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start >= self.at {
            self.newlines += self.bytes[self.at..start].iter().filter(|b| **b == b'\n').count() as u64;
            self.at = start;
        }
        1 + self.newlines
    }
}

/// The field separator: whichever of `,`, `;` and tab the header line holds most of (a
/// spreadsheet saved where the decimal separator is a comma writes `;`); `,` on a tie.
fn delimiter(bytes: &[u8]) -> u8 {
    let header = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |d: u8| header.iter().filter(|b| **b == d).count();
    let mut best = b',';
    for d in [b';', b'\t'] {
        if count(d) > count(best) {
            best = d;
        }
    }
    best
}

/// Reads and checks a whole CSV file. A file that cannot be read or has no usable
/// header is a usage error; a bad data row is listed and the others go on.
pub fn read(path: &Path, defaults: &Defaults) -> Result<Input, UsageError> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(&bytes))
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(&bytes[..]);
    let header = reader
        .byte_headers()
        .map_err(|e| format!("cannot read the header row of {}: {e}", path.display()))?
        .clone();
    if header.is_empty() || header.iter().all(|f| f.is_empty()) {
        return Err(format!("{} is empty: it needs a header row (person_id, from, to, subject)", path.display()).into());
    }
    let columns = columns(&header, defaults)?;
    let mut input = Input::default();
    let mut record = csv::ByteRecord::new();
    let mut lines = Lines { bytes: &bytes, at: 0, newlines: 0 };
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| lines.of_record_at(p.byte()));
                // A blank line is no row.
                if record.len() == 1 && record[0].is_empty() {
                    continue;
                }
                input.total += 1;
                match row(&record, line, &columns, defaults) {
                    Ok(r) => input.rows.push(r),
                    Err(reason) => input.bad.push(BadRow { line, reason }),
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(format!("cannot read {} at line {line}: {e}", path.display()).into());
            }
        }
    }
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8], defaults: &Defaults) -> Result<Input, UsageError> {
        let dir = std::env::temp_dir().join(format!("so-cli-input-{}-{}", std::process::id(), fastrand_name()));
        std::fs::write(&dir, text).unwrap();
        let out = read(&dir, defaults);
        std::fs::remove_file(&dir).unwrap();
        out
    }

    fn fastrand_name() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        N.fetch_add(1, Ordering::Relaxed)
    }

    #[test]
    fn columns_in_any_order_and_bad_rows_by_line() {
        let csv = b"\xEF\xBB\xBFSubject,To,person_id,from,extra\n\
                    Hi,a@x,670,s@x,1\n\
                    Hi,b@x,abc,s@x,2\n\
                    \n\
                    Hi,c@x,-4,s@x,3\n\
                    Hi,\xFF@x,5,s@x,4\n\
                    Hi,d@x\n\
                    ,e@x, 7 ,,5\n";
        let input = parse(csv, &Defaults::default()).unwrap();
        assert_eq!(input.total, 6);
        assert_eq!(
            input.rows,
            vec![
                Row { line: 2, person_id: 670, by_address: false, from: Some("s@x".into()), to: Some("a@x".into()), subject: Some("Hi".into()) },
                Row { line: 8, person_id: 7, by_address: false, from: None, to: Some("e@x".into()), subject: None },
            ]
        );
        let lines: Vec<u64> = input.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![3, 5, 6, 7]);
        assert!(input.bad[0].reason.contains("'abc' is not a positive integer"), "{:?}", input.bad);
        assert!(input.bad[2].reason.contains("not valid UTF-8"), "{:?}", input.bad);
    }

    #[test]
    fn semicolons_tabs_and_crlf() {
        let input = parse(b"Person_ID;to\r\n1;a@x\r\n\r\nzz;b@x\r\n3;\"multi\r\nline\"\r\n4;c@x", &Defaults::default()).unwrap();
        let got: Vec<(u64, i32, Option<&str>)> =
            input.rows.iter().map(|r| (r.line, r.person_id, r.to.as_deref())).collect();
        assert_eq!(got, vec![(2, 1, Some("a@x")), (5, 3, Some("multi\r\nline")), (7, 4, Some("c@x"))]);
        assert_eq!(input.bad, vec![BadRow { line: 4, reason: "person_id 'zz' is not a positive integer (1 to 2147483647)".into() }]);
        let tabs = parse(b"to\tperson_id\nx@y\t9\n", &Defaults::default()).unwrap();
        assert_eq!(tabs.rows[0].person_id, 9);
    }

    #[test]
    fn options_stand_for_missing_columns() {
        let d = Defaults { from: Some("s@x".into()), to: None, subject: Some("S".into()) };
        let input = parse(b"person_id,to\n1,a@x\n", &d).unwrap();
        assert_eq!(input.rows[0].from.as_deref(), Some("s@x"));
        assert_eq!(input.rows[0].subject.as_deref(), Some("S"));
        let both = parse(b"person_id,from\n1,a@x\n", &d).unwrap_err();
        assert!(both.0.contains("--from is given and the CSV has a 'from' column"), "{}", both.0);
        assert!(parse(b"id,from\n1,a\n", &Defaults::default()).unwrap_err().0.contains("no 'person_id' column"));
        assert!(parse(b"id,to\n1,a@x\n", &Defaults { to: Some("t@x".into()), ..Defaults::default() }).is_err());
        assert!(parse(b"", &d).is_err());
    }

    #[test]
    fn a_csv_of_addresses_resolves_rows_by_their_to() {
        let input = parse(b"to,subject\nkari@example.com,Hi\n,Hi\nno-at-sign,Hi\n o'brien@example.com ,Hi\n", &Defaults::default()).unwrap();
        let got: Vec<(u64, i32, bool, Option<&str>)> =
            input.rows.iter().map(|r| (r.line, r.person_id, r.by_address, r.to.as_deref())).collect();
        assert_eq!(got, vec![(2, 0, true, Some("kari@example.com")), (5, 0, true, Some("o'brien@example.com"))]);
        let lines: Vec<u64> = input.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![3, 4]);
        assert!(input.bad[0].reason.contains("no address"), "{:?}", input.bad);
        assert!(input.bad[1].reason.contains("has no @"), "{:?}", input.bad);
        assert_eq!(input.rows[0].describe(), "line 2: kari@example.com (person not resolved)");
    }
}
