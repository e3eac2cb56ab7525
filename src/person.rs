//! Finding a person by e-mail address through SuperOffice's Person archive
//! (`GET {base}/api/v1/Person`), with every row of the answer checked before it is
//! trusted, and sending to an address (docs/person-search.md).

use serde_json::Value;

use crate::client::{Client, Sent, Target};
pub use crate::client::PERSON_PATH;
use crate::error::{Delivery, Error, ErrorKind};
use crate::log::Level;
use crate::request::{PasswordEmail, QUERY_VALUE_ENCODE};


/// Most persons one address may have; one row more is asked for (`$top`) to tell.
pub(crate) const MAX_PERSONS: usize = 50;

/// The longest e-mail address (RFC 5321: 254 characters in a path).
pub(crate) const MAX_ADDRESS_CHARS: usize = 254;

/// Most person ids a message lists.
const IDS_SHOWN: usize = 10;

/// One person the search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonMatch {
    /// The person id (positive).
    pub person_id: i32,
    /// The person's full name, as the archive gave it ("" when it gave none).
    pub full_name: String,
    /// The address as stored (equal to the one searched for, trimmed and ignoring case).
    pub email: String,
}

/// An OData string literal: `'...'` with each `'` doubled.
pub fn odata_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The address to search for, trimmed; refuses one with a control character, without an
/// `@`, or longer than an address can be.
pub fn checked_address(email: &str) -> Result<&str, Error> {
    let address = email.trim();
    if address.chars().any(char::is_control) {
        return Err(Error::invalid("the e-mail address holds a control character"));
    }
    if address.chars().count() > MAX_ADDRESS_CHARS {
        return Err(Error::invalid(format!(
            "the e-mail address is longer than {MAX_ADDRESS_CHARS} characters, the most an address can have"
        )));
    }
    if !address.contains('@') {
        return Err(Error::invalid(format!("'{address}' is not an e-mail address (it has no @)")));
    }
    Ok(address)
}

/// The query of the search for `email` (percent-encoded, without the `?`).
pub fn search_query(email: &str) -> Result<String, Error> {
    let address = checked_address(email)?;
    let filter = format!("email/emailAddress is {}", odata_string(address));
    let encode = |s: &str| percent_encoding::utf8_percent_encode(s, QUERY_VALUE_ENCODE).to_string();
    Ok(format!(
        "$select=personId,fullName,email/emailAddress&$filter={}&$entities=person&$top={}&$jsonSafe=true",
        encode(&filter),
        MAX_PERSONS + 1
    ))
}

/// The column's value in a row: its JSON-safe name, or its own name when the server
/// ignored `$jsonSafe`; both, disagreeing, is an answer that cannot be read.
fn column<'a>(row: &'a serde_json::Map<String, Value>, name: &str) -> Result<Option<&'a Value>, ()> {
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    match (row.get(&safe), row.get(name)) {
        (Some(a), Some(b)) if safe != name && a != b => Err(()),
        (Some(a), _) => Ok(Some(a)),
        (None, b) => Ok(b),
    }
}

/// A person id from a number or a string of digits; positive and within `i32`.
fn id_of(v: &Value) -> Option<i32> {
    let n = match v {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) if !s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok()?,
        _ => return None,
    };
    i32::try_from(n).ok().filter(|id| *id > 0)
}

fn same_address(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Reads and checks the archive's answer to the search for `address` (trimmed): every row
/// a `person` with that address, or the whole answer is refused. `at` names the request.
/// Messages hold person ids and counts, never another person's address or name.
pub fn read_answer(body: &[u8], address: &str, at: &str) -> Result<Vec<PersonMatch>, Error> {
    let untrusted = |why: String| {
        let mut e = Error::not_sent(ErrorKind::Io, format!("{at}: {why}; the answer was not used and no e-mail was sent"));
        e.http_status = 200;
        e
    };
    let doc: Value = serde_json::from_slice(body)
        .map_err(|_| untrusted("the answer is not JSON (or longer than 1 MiB)".into()))?;
    let rows = doc
        .get("value")
        .and_then(Value::as_array)
        .ok_or_else(|| untrusted("the answer has no `value` array of rows".into()))?;
    let n = rows.len();
    let mut found: Vec<PersonMatch> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let row_no = i + 1;
        let row = row.as_object().ok_or_else(|| untrusted(format!("row {row_no} of {n} is not an object")))?;
        let id = row.get("PrimaryKey").and_then(id_of);
        let column_id = column(row, "personId").map_err(|_| untrusted(format!("row {row_no} of {n} has two different person ids")))?;
        let id = match (id, column_id) {
            (Some(id), Some(c)) if id_of(c) != Some(id) => {
                return Err(untrusted(format!(
                    "row {row_no} of {n} (PrimaryKey {id}) has another personId: not a row of the Person archive"
                )))
            }
            (Some(id), _) => id,
            (None, _) => return Err(untrusted(format!("row {row_no} of {n} has no valid person id (PrimaryKey)"))),
        };
        let entity = row.get("EntityName").and_then(Value::as_str).unwrap_or("");
        if entity != "person" {
            let shown = if entity.is_empty() || !entity.chars().all(|c| c.is_ascii_alphanumeric()) || entity.len() > 40 {
                "not a person"
            } else {
                entity
            };
            return Err(untrusted(format!(
                "the server did not apply the search's filter: row {row_no} of {n} (id {id}) is {shown}, \
                 not a person"
            )));
        }
        let email = match column(row, "email/emailAddress") {
            Err(()) => return Err(untrusted(format!("row {row_no} of {n} (person id {id}) has two different e-mail columns"))),
            Ok(None) => {
                return Err(untrusted(format!(
                    "the rows carry no e-mail column (email_emailAddress; row {row_no} of {n}, person id {id}), so \
                     they cannot be checked against the address"
                )))
            }
            Ok(Some(v)) => v.as_str(),
        };
        let email = match email {
            Some(e) if same_address(e, address) => e,
            _ => {
                return Err(untrusted(format!(
                    "the server did not apply the e-mail filter: row {row_no} of {n} (person id {id}) has another \
                     e-mail address"
                )))
            }
        };
        if !found.iter().any(|p| p.person_id == id) {
            let full_name = column(row, "fullName").ok().flatten().and_then(Value::as_str).unwrap_or("");
            found.push(PersonMatch { person_id: id, full_name: full_name.to_string(), email: email.to_string() });
        }
    }
    if n > MAX_PERSONS {
        return Err(Error::not_sent(
            ErrorKind::AmbiguousRecipient,
            format!(
                "more than {MAX_PERSONS} persons have the e-mail address {address} (the search returned {n} rows); \
                 no e-mail was sent: send to one of them by its person id"
            ),
        ));
    }
    Ok(found)
}

/// A failed search: nothing was sent (a search sends no e-mail), so its delivery is
/// `NotSent`, and the words a send's message ends with ("it may have been processed")
/// would mislead: they go.
fn search_failed(mut e: Error) -> Error {
    for words in [Delivery::NotSent, Delivery::Unknown].into_iter().filter_map(Delivery::words) {
        if let Some(head) = e.message.strip_suffix(&format!("; {words}")) {
            e.message = head.to_string();
        }
    }
    e.delivery = Delivery::NotSent;
    e
}

/// Ids as messages list them: at most ten, then how many more.
pub fn listed_ids(ids: &[i32]) -> String {
    let mut text = ids.iter().take(IDS_SHOWN).map(i32::to_string).collect::<Vec<_>>().join(", ");
    if ids.len() > IDS_SHOWN {
        text.push_str(&format!(" and {} more", ids.len() - IDS_SHOWN));
    }
    text
}

/// The one person a send to `address` goes to: `RecipientNotFound` for none,
/// `AmbiguousRecipient` (listing up to ten ids) for several.
pub fn single_person(address: &str, persons: &[PersonMatch]) -> Result<i32, Error> {
    let address = address.trim();
    match persons {
        [one] => Ok(one.person_id),
        [] => Err(Error::not_sent(
            ErrorKind::RecipientNotFound,
            format!("no person has the e-mail address {address}; no e-mail was sent"),
        )),
        many => {
            let ids: Vec<i32> = many.iter().map(|p| p.person_id).collect();
            Err(Error::not_sent(
                ErrorKind::AmbiguousRecipient,
                format!(
                    "{} persons have the e-mail address {address} (person ids {}); no e-mail was sent: send to one \
                     of them by its person id",
                    ids.len(),
                    listed_ids(&ids)
                ),
            ))
        }
    }
}

impl Client {
    /// Finds the persons whose e-mail address is `email` (trimmed, compared without regard
    /// to case): `GET {base}/api/v1/Person?$select=personId,fullName,email/emailAddress
    /// &$filter=email/emailAddress is '<address>'&$entities=person&$top=51&$jsonSafe=true`,
    /// with the client's credentials, headers, timeouts and retries. Every row of the
    /// answer is checked; one that is not a person with that address fails the whole
    /// search. An empty list when no person has the address.
    pub fn find_persons_by_email(&self, email: &str) -> Result<Vec<PersonMatch>, Error> {
        let address = checked_address(email)?;
        let query = search_query(address)?;
        let target = Target::PersonSearch(&query);
        let (answer, _retries) = self.exchange(&target, b"", None).map_err(search_failed)?;
        let at = self.request_at(&target);
        let persons = read_answer(&answer.body, address, &at).inspect_err(|e| {
            self.log(Level::Error, || e.message.clone());
        })?;
        self.log(Level::Info, || {
            let ids: Vec<i32> = persons.iter().map(|p| p.person_id).collect();
            format!("the person search found {} person(s) with the address (ids: {})", ids.len(), listed_ids(&ids))
        });
        Ok(persons)
    }

    /// Sends the Customer Centre password e-mail of the one person whose address is `to`,
    /// to `to`; returns the person id and how the send went. Sends nothing when no person,
    /// or more than one, has the address (`RecipientNotFound`, `AmbiguousRecipient`).
    pub fn send_cc_password_email_to_address(
        &self,
        from: Option<&str>,
        to: &str,
        subject: Option<&str>,
    ) -> Result<(i32, Sent), Error> {
        self.send_cc_password_email_to_address_with(from, to, subject, |_| {})
    }

    /// [`send_cc_password_email_to_address`](Self::send_cc_password_email_to_address),
    /// telling `found` the person id once it is known, before the e-mail request.
    pub fn send_cc_password_email_to_address_with(
        &self,
        from: Option<&str>,
        to: &str,
        subject: Option<&str>,
        found: impl FnOnce(i32),
    ) -> Result<(i32, Sent), Error> {
        // Every failure before the e-mail request means the e-mail was not sent.
        let persons = self.find_persons_by_email(to).map_err(|mut e| {
            if !e.message.contains("no e-mail was sent") {
                e.message = crate::error::bound_message(format!("{}; no e-mail was sent", e.message));
            }
            e
        })?;
        let person_id = single_person(to, &persons).inspect_err(|e| self.log(Level::Error, || e.message.clone()))?;
        found(person_id);
        let email = PasswordEmail { person_id, from, to: Some(to.trim()), subject };
        let sent = self.send_cc_password_email(&email)?;
        Ok((person_id, sent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled_and_the_query_is_encoded() {
        assert_eq!(odata_string("o'brien@example.com"), "'o''brien@example.com'");
        assert_eq!(odata_string("''"), "''''''");
        assert_eq!(
            search_query(" Finn.O'Brien+x@example.com ").unwrap(),
            "$select=personId,fullName,email/emailAddress&$filter=email/emailAddress%20is%20'Finn.O''Brien%2Bx@example.com'\
             &$entities=person&$top=51&$jsonSafe=true"
        );
        assert!(search_query("a&b=c#d%e@x").unwrap().contains("a%26b%3Dc%23d%25e@x"));
        assert!(search_query("jö@x").unwrap().contains("j%C3%B6@x"));
    }

    #[test]
    fn addresses_are_refused_before_anything_is_sent() {
        for bad in ["no-at-sign", "", "   ", "a@b\r\nX-Injected: 1", "a\u{0}@b", "a\u{85}b@c", "tab\t@x"] {
            assert_eq!(search_query(bad).unwrap_err().kind, ErrorKind::InvalidArgument, "{bad:?}");
        }
        let long = format!("{}@x.com", "a".repeat(250));
        assert_eq!(search_query(&long).unwrap_err().kind, ErrorKind::InvalidArgument);
    }

    #[test]
    fn single_person_names_the_codes() {
        let p = |id| PersonMatch { person_id: id, full_name: String::new(), email: "a@b".into() };
        assert_eq!(single_person("a@b", &[p(7)]), Ok(7));
        assert_eq!(single_person("a@b", &[]).unwrap_err().kind, ErrorKind::RecipientNotFound);
        let many: Vec<_> = (1..=12).map(p).collect();
        let e = single_person("a@b", &many).unwrap_err();
        assert_eq!(e.kind, ErrorKind::AmbiguousRecipient);
        assert!(e.message.contains("12 persons") && e.message.contains("1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more"), "{}", e.message);
    }
}
