//! The CSV export of a view: one header line and one line per order, RFC 4180 (comma separated,
//! CRLF line ends, fields quoted when they hold a comma, a quote or a line break, quotes doubled).
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a
//! formula, so text a customer typed (a name, a tag) could run in the merchant's spreadsheet. Such
//! text fields get a leading `'`, which spreadsheets show as text. The number columns
//! (`total_price`) and the fields Sync itself writes are left as they are.

use chrono::SecondsFormat;

use crate::domain::Order;

/// The columns, in order.
pub const COLUMNS: [&str; 15] = [
    "order_number",
    "id",
    "created_at",
    "customer_name",
    "customer_email",
    "total_price",
    "currency",
    "status",
    "financial_status",
    "priority",
    "assigned_to",
    "alerts",
    "return_state",
    "support_thread",
    "tags",
];

/// The header line, CRLF included.
pub fn header() -> String {
    let mut line = COLUMNS.join(",");
    line.push_str("\r\n");
    line
}

/// One field as it is written: quoted if it must be, formula-guarded if `text` is typed by people.
fn encode_field(value: &str, text: bool) -> String {
    let guard = text && value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = value.contains([',', '"', '\r', '\n']);
    let mut out = String::with_capacity(value.len() + 3);
    if quote {
        out.push('"');
    }
    if guard {
        out.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quote {
        out.push('"');
    }
    out
}

/// Appends the line of `order`, CRLF included, to `out`.
pub fn push_row(out: &mut String, order: &Order) {
    let alerts: Vec<&str> = order.alerts.iter().map(|a| a.as_str()).collect();
    let fields: [(&str, bool); 15] = [
        (&order.order_number, true),
        (&order.id, false),
        (
            &order
                .created_at
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            false,
        ),
        (&order.customer.name, true),
        (order.customer.email.as_deref().unwrap_or(""), true),
        (&order.total_price, false),
        (&order.currency, false),
        (order.status.as_str(), false),
        (order.financial_status.as_str(), false),
        (order.priority.as_str(), false),
        (order.assigned_to.as_deref().unwrap_or(""), true),
        (&alerts.join(" "), false),
        (
            order.return_.as_ref().map_or("", |r| r.state.as_str()),
            false,
        ),
        (order.support_thread.as_deref().unwrap_or(""), true),
        (&order.tags.join(" "), true),
    ];
    let line: Vec<String> = fields
        .into_iter()
        .map(|(value, text)| encode_field(value, text))
        .collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::generate;
    use crate::Thresholds;
    use chrono::{TimeZone, Utc};

    /// Splits one CSV line back into fields (the RFC 4180 reading), for the round trip.
    fn parse_line(line: &str) -> Vec<String> {
        let mut fields = vec![String::new()];
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (false, ',') => fields.push(String::new()),
                (false, '"') => quoted = true,
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    fields.last_mut().unwrap().push('"');
                }
                (true, '"') => quoted = false,
                (_, c) => fields.last_mut().unwrap().push(c),
            }
        }
        fields
    }

    fn an_order() -> Order {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
        let records = generate("csv.myshopify.com", 40, 7, now);
        records[0].to_order(now, &Thresholds::default())
    }

    #[test]
    fn the_header_names_every_column_once() {
        assert_eq!(header().trim_end().split(',').count(), COLUMNS.len());
        assert!(header().ends_with("\r\n"));
    }

    #[test]
    fn a_row_has_one_field_per_column_and_reads_back() {
        let mut order = an_order();
        order.customer.name = "Doe, \"Jane\"\nSecond line".into();
        order.tags = vec!["vip".into(), "gift".into()];
        let mut out = String::new();
        push_row(&mut out, &order);
        assert!(out.ends_with("\r\n"));
        let fields = parse_line(out.strip_suffix("\r\n").unwrap());
        assert_eq!(fields.len(), COLUMNS.len());
        assert_eq!(fields[0], order.order_number);
        assert_eq!(fields[1], order.id);
        assert_eq!(fields[3], "Doe, \"Jane\"\nSecond line");
        assert_eq!(fields[5], order.total_price);
        assert_eq!(fields[14], "vip gift");
    }

    #[test]
    fn text_that_a_spreadsheet_would_run_is_kept_as_text() {
        let mut order = an_order();
        order.customer.name = "=HYPERLINK(\"http://x\",\"y\")".into();
        order.tags = vec!["+1".into()];
        order.assigned_to = Some("@alex".into());
        order.total_price = "-5.00".into();
        let mut out = String::new();
        push_row(&mut out, &order);
        let fields = parse_line(out.strip_suffix("\r\n").unwrap());
        assert_eq!(fields[3], "'=HYPERLINK(\"http://x\",\"y\")");
        assert_eq!(fields[10], "'@alex");
        assert_eq!(fields[14], "'+1");
        assert_eq!(fields[5], "-5.00", "numbers are not guarded");
    }

    #[test]
    fn plain_fields_are_not_quoted() {
        let mut order = an_order();
        order.customer.name = "Jane Doe".into();
        let mut out = String::new();
        push_row(&mut out, &order);
        assert!(out.contains(",Jane Doe,"));
    }
}
