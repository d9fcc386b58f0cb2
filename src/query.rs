//! The query of `GET /sync/orders` (SPEC §2): parsing and validating its parameters, and turning a
//! cursor and a direction into a window of rows and back into `pageInfo`.
//!
//! Policy: an empty value (`status=`) means the parameter was not given, which is what an HTML form
//! with an empty select sends; any other value outside the contract is a 400 naming the parameter.
//! Values are trimmed, so a value of blanks is empty too, except for `query`: a search box holding
//! only spaces is a search of no characters, a 400 (`search.rs` holds the search's rule). Unknown
//! parameters are ignored. A list parameter given twice is read as one list.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cursor::Cursor;
use crate::domain::{OrderStatus, Priority};
use crate::search::Search;
use crate::tabs::Tab;

/// Rows a page holds unless the client asks otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 250;
/// The word `assigned_to` takes for orders with no owner.
pub const UNASSIGNED: &str = "unassigned";

/// Which way to read from a cursor.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The page starting at the cursor.
    #[default]
    Next,
    /// The page ending just before the cursor.
    Previous,
}

impl Direction {
    /// The word used in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Next => "next",
            Direction::Previous => "previous",
        }
    }
}

/// Whose orders to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssigneeFilter {
    /// Orders nobody owns.
    Unassigned,
    /// Orders owned by this person.
    Person(String),
}

/// The non-tab filters: they narrow every tab, and the tab counts are taken under them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OrderFilter {
    /// Any of these statuses; empty means any status.
    pub statuses: Vec<OrderStatus>,
    /// Any of these priorities; empty means any priority.
    pub priorities: Vec<Priority>,
    pub assigned_to: Option<AssigneeFilter>,
    /// `createdAt` at or after this instant.
    pub created_from: Option<DateTime<Utc>>,
    /// `createdAt` at or before this instant (a date end is the last microsecond of its day).
    pub created_until: Option<DateTime<Utc>>,
    /// The search (`query`). Unlike the filters above it depends on the shop's other orders (a
    /// name wins over contains), so [`OrderFilter::matches`] leaves it to [`Search::matches`].
    pub search: Option<Search>,
}

impl OrderFilter {
    /// Whether an order with these facts passes the filter, its search aside (the in-memory store's
    /// reading of it; the PostgreSQL store states the same conditions in SQL).
    pub fn matches(
        &self,
        status: OrderStatus,
        priority: Priority,
        assignee: Option<&str>,
        created_at: DateTime<Utc>,
    ) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&status))
            && (self.priorities.is_empty() || self.priorities.contains(&priority))
            && match &self.assigned_to {
                None => true,
                Some(AssigneeFilter::Unassigned) => assignee.is_none(),
                Some(AssigneeFilter::Person(p)) => assignee == Some(p.as_str()),
            }
            && self.created_from.is_none_or(|from| created_at >= from)
            && self.created_until.is_none_or(|until| created_at <= until)
    }
}

/// A validated list query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    pub shop_domain: String,
    pub tab: Tab,
    pub page_size: u32,
    pub cursor: Option<Cursor>,
    pub direction: Direction,
    pub filter: OrderFilter,
    /// The raw `date_start`/`date_end` as given, kept so links can be rebuilt exactly.
    pub date_start: Option<String>,
    pub date_end: Option<String>,
}

/// A parameter the client got wrong, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {param}: {message}")]
pub struct QueryError {
    pub param: &'static str,
    pub message: String,
}

fn bad(param: &'static str, message: impl Into<String>) -> QueryError {
    QueryError {
        param,
        message: message.into(),
    }
}

/// Checks a shop domain and returns it in lower case.
pub fn parse_shop_domain(raw: &str) -> Result<String, String> {
    let domain = raw.trim().to_ascii_lowercase();
    if domain.is_empty() {
        return Err("shop_domain is required, e.g. acme.myshopify.com".into());
    }
    let valid = domain.len() <= 255
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with(['.', '-']);
    if !valid {
        return Err(format!(
            "'{raw}' is not a shop domain like acme.myshopify.com"
        ));
    }
    Ok(domain)
}

/// Reads a `date_start`/`date_end` value: a `YYYY-MM-DD` date (UTC) or an RFC 3339 instant.
/// A date as the end of a range covers its whole day.
fn parse_date_bound(
    param: &'static str,
    raw: &str,
    is_end: bool,
) -> Result<DateTime<Utc>, QueryError> {
    if let Some(date) = plain_date(raw) {
        let start = date.and_time(NaiveTime::MIN).and_utc();
        return Ok(if is_end {
            start + Duration::days(1) - Duration::microseconds(1)
        } else {
            start
        });
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            bad(
                param,
                format!("'{raw}' is not a date (YYYY-MM-DD) or an RFC 3339 timestamp"),
            )
        })
}

/// A `date_start`/`date_end` value that is a plain `YYYY-MM-DD` date, not a timestamp.
fn plain_date(raw: &str) -> Option<NaiveDate> {
    (raw.len() == 10)
        .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
        .flatten()
}

fn parse_list<T: std::str::FromStr<Err = crate::domain::UnknownValue>>(
    param: &'static str,
    values: &[String],
) -> Result<Vec<T>, QueryError> {
    let mut out = Vec::new();
    for item in values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        out.push(item.parse::<T>().map_err(|e| bad(param, e.to_string()))?);
    }
    Ok(out)
}

impl ListQuery {
    /// The first page of the `all` tab for a shop, with no filters.
    pub fn for_shop(shop_domain: impl Into<String>) -> Self {
        ListQuery {
            shop_domain: shop_domain.into(),
            tab: Tab::All,
            page_size: DEFAULT_PAGE_SIZE,
            cursor: None,
            direction: Direction::Next,
            filter: OrderFilter::default(),
            date_start: None,
            date_end: None,
        }
    }

    /// Validates the query parameters of a list request. `shop_domain` may be supplied by the caller
    /// (the dashboard knows its shop); otherwise it is read from the parameters.
    pub fn parse<I, K, V>(pairs: I, shop_domain: Option<&str>) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut raw: std::collections::HashMap<&'static str, Vec<String>> = Default::default();
        const KNOWN: &[&str] = &[
            "shop_domain",
            "tab",
            "pageSize",
            "cursor",
            "direction",
            "status",
            "priority",
            "assigned_to",
            "date_start",
            "date_end",
            "query",
        ];
        for (k, v) in pairs {
            if let Some(name) = KNOWN.iter().find(|n| **n == k.as_ref()) {
                raw.entry(name).or_default().push(v.as_ref().to_owned());
            }
        }
        // A scalar parameter: absent or empty means "not given"; given twice with different values is an error.
        let single = |name: &'static str| -> Result<Option<String>, QueryError> {
            let Some(values) = raw.get(name) else {
                return Ok(None);
            };
            let mut given = values.iter().map(|v| v.trim()).filter(|v| !v.is_empty());
            let first = given.next();
            if let Some(first) = first {
                if given.any(|other| other != first) {
                    return Err(bad(name, "given more than once with different values"));
                }
            }
            Ok(first.map(str::to_owned))
        };

        let shop_domain = match shop_domain {
            Some(shop) => parse_shop_domain(shop).map_err(|m| bad("shop_domain", m))?,
            None => {
                let given = single("shop_domain")?.ok_or_else(|| {
                    bad(
                        "shop_domain",
                        "shop_domain is required, e.g. acme.myshopify.com",
                    )
                })?;
                parse_shop_domain(&given).map_err(|m| bad("shop_domain", m))?
            }
        };
        let tab = match single("tab")? {
            Some(t) => t.parse::<Tab>().map_err(|e| bad("tab", e.to_string()))?,
            None => Tab::All,
        };
        let page_size = match single("pageSize")? {
            Some(p) => {
                let n = if p.bytes().all(|b| b.is_ascii_digit()) {
                    p.parse::<u32>().ok()
                } else {
                    None
                };
                match n {
                    Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                    _ => {
                        return Err(bad(
                            "pageSize",
                            format!("'{p}' is not a whole number from 1 to {MAX_PAGE_SIZE}"),
                        ))
                    }
                }
            }
            None => DEFAULT_PAGE_SIZE,
        };
        let cursor = match single("cursor")? {
            Some(c) => Some(
                c.parse::<Cursor>()
                    .map_err(|e| bad("cursor", format!("'{c}': {e}")))?,
            ),
            None => None,
        };
        let direction = match single("direction")?.as_deref() {
            None | Some("next") => Direction::Next,
            Some("previous") => Direction::Previous,
            Some(other) => {
                return Err(bad(
                    "direction",
                    format!("'{other}' is not one of next, previous"),
                ))
            }
        };
        let empty = Vec::new();
        let statuses = parse_list::<OrderStatus>("status", raw.get("status").unwrap_or(&empty))?;
        let priorities = parse_list::<Priority>("priority", raw.get("priority").unwrap_or(&empty))?;
        let assigned_to = match single("assigned_to")? {
            None => None,
            Some(a) if a.contains('\0') => {
                return Err(bad(
                    "assigned_to",
                    "assigned_to must not contain NUL characters",
                ))
            }
            Some(a) if a == UNASSIGNED => Some(AssigneeFilter::Unassigned),
            Some(a) => Some(AssigneeFilter::Person(a)),
        };
        let date_start = single("date_start")?;
        let date_end = single("date_end")?;
        let created_from = date_start
            .as_deref()
            .map(|d| parse_date_bound("date_start", d, false))
            .transpose()?;
        let created_until = date_end
            .as_deref()
            .map(|d| parse_date_bound("date_end", d, true))
            .transpose()?;
        if let (Some(from), Some(until)) = (created_from, created_until) {
            if from > until {
                return Err(bad("date_start", "date_start is after date_end"));
            }
        }
        // Only an empty `query=` is "not given"; blanks are checked (and refused) as a search.
        let mut searches = raw
            .get("query")
            .into_iter()
            .flatten()
            .filter(|v| !v.is_empty());
        let search = match searches.next() {
            None => None,
            Some(first) => {
                if searches.any(|other| other.trim() != first.trim()) {
                    return Err(bad("query", "given more than once with different values"));
                }
                Some(Search::parse(first).map_err(|m| bad("query", m))?)
            }
        };
        Ok(ListQuery {
            shop_domain,
            tab,
            page_size,
            cursor,
            direction,
            filter: OrderFilter {
                statuses,
                priorities,
                assigned_to,
                created_from,
                created_until,
                search,
            },
            date_start,
            date_end,
        })
    }

    /// This query with its plain-date bounds read as days of another calendar: `day` gives a
    /// date's first and last instants (the dashboard's: the shop's local day). Timestamps stay
    /// exact, and the raw `date_start`/`date_end` stay as given, for links. [`ListQuery::parse`]
    /// alone reads a date as a UTC day, the Sync API's rule (SPEC §2), which this does not change.
    pub fn with_local_days(
        mut self,
        day: impl Fn(NaiveDate) -> (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Self, QueryError> {
        if let Some(date) = self.date_start.as_deref().and_then(plain_date) {
            self.filter.created_from = Some(day(date).0);
        }
        if let Some(date) = self.date_end.as_deref().and_then(plain_date) {
            self.filter.created_until = Some(day(date).1);
        }
        if let (Some(from), Some(until)) = (self.filter.created_from, self.filter.created_until) {
            if from > until {
                return Err(bad("date_start", "date_start is after date_end"));
            }
        }
        Ok(self)
    }

    /// The query as URL parameters, leaving out defaults and the shop (for links between views).
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.tab != Tab::All {
            out.push(("tab", self.tab.as_str().to_owned()));
        }
        if self.page_size != DEFAULT_PAGE_SIZE {
            out.push(("pageSize", self.page_size.to_string()));
        }
        if let Some(c) = self.cursor {
            out.push(("cursor", c.to_string()));
        }
        if self.direction != Direction::Next {
            out.push(("direction", self.direction.as_str().to_owned()));
        }
        if !self.filter.statuses.is_empty() {
            let s: Vec<_> = self.filter.statuses.iter().map(|s| s.as_str()).collect();
            out.push(("status", s.join(",")));
        }
        if !self.filter.priorities.is_empty() {
            let p: Vec<_> = self.filter.priorities.iter().map(|p| p.as_str()).collect();
            out.push(("priority", p.join(",")));
        }
        match &self.filter.assigned_to {
            Some(AssigneeFilter::Unassigned) => out.push(("assigned_to", UNASSIGNED.to_owned())),
            Some(AssigneeFilter::Person(p)) => out.push(("assigned_to", p.clone())),
            None => {}
        }
        if let Some(d) = &self.date_start {
            out.push(("date_start", d.clone()));
        }
        if let Some(d) = &self.date_end {
            out.push(("date_end", d.clone()));
        }
        if let Some(s) = &self.filter.search {
            out.push(("query", s.text().to_owned()));
        }
        out
    }

    /// The rows this query asks for.
    pub fn window(&self) -> PageWindow {
        PageWindow::new(
            self.cursor.unwrap_or_default(),
            self.direction,
            self.page_size,
        )
    }
}

/// A run of rows in the ordered list: `limit` rows from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    pub offset: u64,
    pub limit: u64,
    pub page_size: u32,
}

impl PageWindow {
    /// `next` reads `page_size` rows from the cursor; `previous` reads the rows just before it.
    pub fn new(cursor: Cursor, direction: Direction, page_size: u32) -> Self {
        let c = cursor.offset();
        let ps = u64::from(page_size);
        match direction {
            Direction::Next => PageWindow {
                offset: c,
                limit: ps,
                page_size,
            },
            Direction::Previous => {
                let offset = c.saturating_sub(ps);
                PageWindow {
                    offset,
                    limit: c - offset,
                    page_size,
                }
            }
        }
    }

    /// `pageInfo` for this window, given how many rows it returned and how many the tab holds.
    pub fn page_info(&self, returned: usize, total: u64) -> PageInfo {
        let end = self.offset.saturating_add(returned as u64);
        let next = (end < total).then_some(Cursor(end));
        PageInfo {
            page_size: self.page_size,
            cursor: Cursor(self.offset),
            next_cursor: next,
            previous_cursor: (self.offset > 0).then_some(Cursor(self.offset)),
            has_next_page: next.is_some(),
            has_previous_page: self.offset > 0,
        }
    }
}

/// Where a page sits, and the cursors that lead away from it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub page_size: u32,
    pub cursor: Cursor,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_cursor: Option<Cursor>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub previous_cursor: Option<Cursor>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(q: &[(&str, &str)]) -> Result<ListQuery, QueryError> {
        ListQuery::parse(q.iter().copied(), None)
    }

    #[test]
    fn a_bare_shop_gives_the_first_page_of_all_with_fifty_rows() {
        let q = parse(&[("shop_domain", "Acme.myshopify.com")]).unwrap();
        assert_eq!(q, ListQuery::for_shop("acme.myshopify.com"));
        assert_eq!(
            q.window(),
            PageWindow {
                offset: 0,
                limit: 50,
                page_size: 50
            }
        );
    }

    #[test]
    fn each_bad_value_is_refused_naming_its_parameter() {
        let cases: &[(&str, &str)] = &[
            ("tab", "archived"),
            ("pageSize", "0"),
            ("pageSize", "251"),
            ("pageSize", "ten"),
            ("pageSize", "-1"),
            ("pageSize", "1.5"),
            ("cursor", "50"),
            ("cursor", "ofs:"),
            ("direction", "back"),
            ("status", "shipped"),
            ("status", "unfulfilled,nope"),
            ("priority", "critical"),
            ("date_start", "2025-13-01"),
            ("date_end", "yesterday"),
            ("assigned_to", "sam\0"),
            ("query", "ab"),
            ("query", "  ab  "),
            ("query", "   "),
            ("query", &"x".repeat(101)),
        ];
        for (param, value) in cases {
            let err = parse(&[("shop_domain", "acme.myshopify.com"), (param, value)]).unwrap_err();
            assert_eq!(err.param, *param, "{param}={value}: {err}");
        }
        assert_eq!(parse(&[]).unwrap_err().param, "shop_domain");
        assert_eq!(
            parse(&[("shop_domain", "not a shop")]).unwrap_err().param,
            "shop_domain"
        );
    }

    #[test]
    fn a_start_after_the_end_is_refused() {
        let err = parse(&[
            ("shop_domain", "acme.myshopify.com"),
            ("date_start", "2025-09-28"),
            ("date_end", "2025-09-27"),
        ])
        .unwrap_err();
        assert_eq!(err.param, "date_start");
    }

    #[test]
    fn local_days_replace_the_bounds_of_plain_dates_only() {
        let q = ListQuery::parse(
            [
                ("date_start", "2026-12-02"),
                ("date_end", "2026-12-03T10:00:00Z"),
            ],
            Some("acme.myshopify.com"),
        )
        .unwrap();
        // A day of UTC+9: from 15:00 UTC the day before.
        let tokyo = |d: NaiveDate| {
            let start = d.and_time(NaiveTime::MIN).and_utc() - Duration::hours(9);
            (start, start + Duration::days(1) - Duration::microseconds(1))
        };
        let local = q.clone().with_local_days(tokyo).unwrap();
        assert_eq!(
            local.filter.created_from.unwrap().to_rfc3339(),
            "2026-12-01T15:00:00+00:00"
        );
        assert_eq!(local.filter.created_until, q.filter.created_until);
        assert_eq!(
            local.to_pairs(),
            q.to_pairs(),
            "links keep the dates as given"
        );
        let late = ListQuery::parse(
            [
                ("date_start", "2026-12-02"),
                ("date_end", "2026-12-02T00:30:00Z"),
            ],
            Some("acme.myshopify.com"),
        )
        .unwrap();
        let minus_two = |d: NaiveDate| {
            let start = d.and_time(NaiveTime::MIN).and_utc() + Duration::hours(2);
            (start, start + Duration::days(1))
        };
        assert_eq!(
            late.with_local_days(minus_two).unwrap_err().param,
            "date_start"
        );
    }

    #[test]
    fn a_date_end_covers_its_whole_day_and_a_timestamp_is_exact() {
        let q = parse(&[
            ("shop_domain", "acme.myshopify.com"),
            ("date_start", "2025-09-27"),
            ("date_end", "2025-09-27"),
        ])
        .unwrap();
        assert_eq!(
            q.filter.created_from.unwrap().to_rfc3339(),
            "2025-09-27T00:00:00+00:00"
        );
        assert_eq!(
            q.filter.created_until.unwrap().to_rfc3339(),
            "2025-09-27T23:59:59.999999+00:00"
        );
        let q = parse(&[
            ("shop_domain", "a.myshopify.com"),
            ("date_end", "2025-09-27T10:00:00+02:00"),
        ])
        .unwrap();
        assert_eq!(
            q.filter.created_until.unwrap().to_rfc3339(),
            "2025-09-27T08:00:00+00:00"
        );
    }

    #[test]
    fn lists_are_comma_separated_and_may_repeat() {
        let q = parse(&[
            ("shop_domain", "acme.myshopify.com"),
            ("status", "unfulfilled,on_hold"),
            ("status", "cancelled"),
            ("priority", "high"),
            ("assigned_to", "unassigned"),
        ])
        .unwrap();
        assert_eq!(
            q.filter.statuses,
            vec![
                OrderStatus::Unfulfilled,
                OrderStatus::OnHold,
                OrderStatus::Cancelled
            ]
        );
        assert_eq!(q.filter.priorities, vec![Priority::High]);
        assert_eq!(q.filter.assigned_to, Some(AssigneeFilter::Unassigned));
    }

    #[test]
    fn empty_values_mean_not_given() {
        let q = parse(&[
            ("shop_domain", "acme.myshopify.com"),
            ("status", ""),
            ("pageSize", ""),
            ("tab", ""),
        ])
        .unwrap();
        assert_eq!(q, ListQuery::for_shop("acme.myshopify.com"));
    }

    #[test]
    fn an_empty_query_is_not_given_and_a_search_is_kept_trimmed() {
        let q = parse(&[("shop_domain", "acme.myshopify.com"), ("query", "")]).unwrap();
        assert_eq!(q, ListQuery::for_shop("acme.myshopify.com"));
        let q = parse(&[
            ("shop_domain", "acme.myshopify.com"),
            ("query", "  #1001 "),
            ("query", "#1001"),
            ("query", ""),
        ])
        .unwrap();
        assert_eq!(
            q.filter.search.map(|s| s.text().to_owned()),
            Some("#1001".into())
        );
        let err = parse(&[
            ("shop_domain", "acme.myshopify.com"),
            ("query", "ada"),
            ("query", "byron"),
        ])
        .unwrap_err();
        assert_eq!(err.param, "query");
    }

    #[test]
    fn previous_reads_the_rows_just_before_the_cursor() {
        let w = PageWindow::new(Cursor(50), Direction::Previous, 50);
        assert_eq!((w.offset, w.limit), (0, 50));
        let w = PageWindow::new(Cursor(30), Direction::Previous, 50);
        assert_eq!((w.offset, w.limit), (0, 30));
        let w = PageWindow::new(Cursor(0), Direction::Previous, 50);
        assert_eq!((w.offset, w.limit), (0, 0));
    }

    #[test]
    fn page_info_of_the_first_last_and_middle_pages() {
        let first = PageWindow::new(Cursor(0), Direction::Next, 50).page_info(50, 120);
        assert_eq!(first.previous_cursor, None);
        assert_eq!(first.next_cursor, Some(Cursor(50)));
        assert!(first.has_next_page && !first.has_previous_page);
        let middle = PageWindow::new(Cursor(50), Direction::Next, 50).page_info(50, 120);
        assert_eq!(
            (middle.cursor, middle.previous_cursor, middle.next_cursor),
            (Cursor(50), Some(Cursor(50)), Some(Cursor(100)))
        );
        let last = PageWindow::new(Cursor(100), Direction::Next, 50).page_info(20, 120);
        assert_eq!(last.next_cursor, None);
        assert!(!last.has_next_page && last.has_previous_page);
        let past = PageWindow::new(Cursor(500), Direction::Next, 50).page_info(0, 120);
        assert_eq!(past.next_cursor, None);
    }

    #[test]
    fn links_rebuild_the_same_query() {
        let pairs = [
            ("shop_domain", "acme.myshopify.com"),
            ("tab", "returns"),
            ("pageSize", "25"),
            ("cursor", "ofs:1e"),
            ("direction", "previous"),
            ("status", "unfulfilled,on_hold"),
            ("priority", "urgent"),
            ("assigned_to", "sam"),
            ("date_start", "2025-09-01"),
            ("date_end", "2025-09-27T10:00:00Z"),
            ("query", " Ada Byron "),
        ];
        let q = parse(&pairs).unwrap();
        let again = ListQuery::parse(q.to_pairs(), Some("acme.myshopify.com")).unwrap();
        assert_eq!(q, again);
    }

    proptest! {
        /// Reading next from a page's nextCursor, then previous from the previousCursor that page
        /// returns, gives back the page you started from.
        #[test]
        fn next_then_previous_returns_to_the_same_page(total in 0u64..2000, start in 0u64..2000, ps in 1u32..=250) {
            let here = PageWindow::new(Cursor(start), Direction::Next, ps);
            let rows = |w: PageWindow| w.limit.min(total.saturating_sub(w.offset)) as usize;
            let info = here.page_info(rows(here), total);
            if let Some(next) = info.next_cursor {
                prop_assume!(rows(here) == ps as usize);
                let there = PageWindow::new(next, Direction::Next, ps);
                let there_info = there.page_info(rows(there), total);
                let back = PageWindow::new(there_info.previous_cursor.unwrap(), Direction::Previous, ps);
                prop_assert_eq!((back.offset, rows(back)), (here.offset, rows(here)));
            }
        }

        #[test]
        fn offsets_never_skip_or_repeat_a_row(total in 0u64..3000, ps in 1u32..=250) {
            let mut seen = 0u64;
            let mut cursor = Cursor(0);
            loop {
                let w = PageWindow::new(cursor, Direction::Next, ps);
                let rows = w.limit.min(total.saturating_sub(w.offset));
                prop_assert_eq!(w.offset, seen);
                seen += rows;
                match w.page_info(rows as usize, total).next_cursor { Some(c) => cursor = c, None => break }
            }
            prop_assert_eq!(seen, total);
        }

        #[test]
        fn parsing_arbitrary_parameters_never_panics(k in "[a-zA-Z_]{0,12}", v in ".{0,40}") {
            let _ = ListQuery::parse([("shop_domain", "a.myshopify.com"), (k.as_str(), v.as_str())], None);
        }
    }
}
