//! Part 2, the list query: any parameters parse or name the parameter at fault, and a valid query
//! written any way reads as meant.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, SecondsFormat, Utc};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

use orders_core::query::{parse_shop_domain, AssigneeFilter, OrderFilter, UNASSIGNED};
use orders_core::search::Search;
use orders_core::{Cursor, Direction, ListQuery, OrderStatus, PageWindow, Priority, Tab};

use super::cursor::{base36, cursor_tail, mixed_case};
use super::strategies::hostile_text;
use super::CASES;

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

/// A parameter name: mostly ones the query reads, sometimes near misses and junk.
fn query_key() -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::sample::select(KNOWN).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["page_size", "Tab", "PAGESIZE", "status[]", "shop", " tab", "tab "])
            .prop_map(str::to_owned),
        1 => ".{0,10}",
    ]
    .boxed()
}

/// A parameter value: valid words, lists with empty items and spaces, huge numbers, dates, cursors,
/// arbitrary Unicode, blanks.
fn query_value() -> BoxedStrategy<String> {
    let word = prop::sample::select(vec![
        "all",
        "returns",
        "tracking_pending",
        "unfulfilled",
        "on_hold",
        "cancelled",
        "fulfilled",
        "low",
        "normal",
        "urgent",
        "HIGH",
        "next",
        "previous",
        "Next",
        "unassigned",
        "sam",
        "nope",
        "",
    ]);
    prop_oneof![
        3 => hostile_text(),
        2 => prop::collection::vec((word, "[ \t]{0,2}", "[ \t]{0,2}"), 0..6).prop_map(|items| {
            items.into_iter().map(|(w, a, b)| format!("{a}{w}{b}")).collect::<Vec<_>>().join(",")
        }),
        1 => "[0-9]{1,40}",
        1 => "0{0,30}[0-9]{1,3}",
        1 => "[-+]?[0-9]{1,3}(\\.[0-9]{1,3})?",
        1 => "ofs:.{0,16}",
        1 => "[ \t]{0,2}#?[a-zA-Z0-9@. ]{0,110}[ \t]{0,2}",
        1 => Just(String::new()),
    ]
    .boxed()
}

fn shop_domain_text() -> BoxedStrategy<String> {
    prop_oneof![
        2 => "[ \t]{0,2}[a-zA-Z0-9]([a-zA-Z0-9.-]{0,40}[a-zA-Z0-9])?[ \t]{0,2}",
        1 => ".{0,30}",
        1 => "[a-z0-9.-]{250,260}",
        1 => "[.-][a-z]{1,5}|[a-z]{1,5}[.-]",
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// A shop domain is refused with a message, or accepted as a lower-case ASCII name of at most 255
    /// characters that reads back as itself.
    #[test]
    fn a_shop_domain_is_refused_or_read_canonically(raw in shop_domain_text()) {
        match parse_shop_domain(&raw) {
            Ok(d) => {
                prop_assert!(!d.is_empty() && d.len() <= 255);
                prop_assert!(d.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'));
                prop_assert_eq!(d.clone(), raw.trim().to_ascii_lowercase());
                prop_assert_eq!(parse_shop_domain(&d), Ok(d));
            }
            Err(message) => prop_assert!(!message.is_empty()),
        }
    }

    /// Any parameters at all: a query, or an error naming a parameter the request actually gave
    /// (or the shop, which is required). A query that parses is within the contract and its links
    /// rebuild it exactly.
    #[test]
    fn any_parameters_parse_or_name_the_parameter_at_fault(
        pairs in prop::collection::vec((query_key(), query_value()), 0..12),
        shop in prop::option::of(shop_domain_text()),
    ) {
        match ListQuery::parse(pairs.iter().map(|(k, v)| (k, v)), shop.as_deref()) {
            Ok(q) => {
                prop_assert!((1..=250).contains(&q.page_size));
                prop_assert_eq!(parse_shop_domain(&q.shop_domain), Ok(q.shop_domain.clone()));
                check_links_rebuild(&q)?;
                let w = q.window();
                prop_assert!(w.limit <= u64::from(q.page_size));
                let info = w.page_info(w.limit as usize, u64::MAX);
                prop_assert_eq!(info.page_size, q.page_size);
            }
            Err(e) => {
                prop_assert!(KNOWN.contains(&e.param), "{}", e);
                prop_assert!(!e.message.is_empty());
                prop_assert!(e.to_string().contains(e.param));
                // A blank search is refused as a search of no characters; only an empty one is
                // not given.
                let given = pairs.iter().any(|(k, v)| {
                    k == e.param && !(v.trim().is_empty() && (k != "query" || v.is_empty()))
                });
                prop_assert!(given || e.param == "shop_domain", "{} was not given: {:?}", e.param, pairs);
            }
        }
    }

    /// A cursor given as a parameter is read as the codec reads it, spaces around it aside.
    #[test]
    fn a_cursor_parameter_is_read_as_the_codec_reads_it(tail in cursor_tail(), pad in "[ \t]{0,2}") {
        let raw = format!("{pad}ofs:{tail}{pad}");
        let q = ListQuery::parse([("cursor", raw.as_str())], Some("a.myshopify.com"));
        match raw.trim().parse::<Cursor>() {
            Ok(c) => prop_assert_eq!(q.map(|q| q.cursor), Ok(Some(c))),
            Err(_) => prop_assert_eq!(q.map_err(|e| e.param), Err("cursor")),
        }
    }

    /// A well-formed query however it is written (spaces, repeats, empty values, leading zeros,
    /// either case of cursor digits, lists split across parameters, unknown parameters, any order)
    /// reads as the query it means, and its links give it back.
    #[test]
    fn a_valid_query_written_any_way_reads_as_meant(spec in valid_query()) {
        let (pairs, shop_in_params, want) = spec;
        let got = ListQuery::parse(
            pairs.iter().map(|(k, v)| (k, v)),
            if shop_in_params { None } else { Some(want.shop_domain.as_str()) },
        );
        match (want.filter.created_from, want.filter.created_until) {
            (Some(from), Some(until)) if from > until => {
                prop_assert_eq!(got.map_err(|e| e.param), Err("date_start"));
            }
            _ => {
                let q = got.map_err(|e| TestCaseError::fail(format!("{e} for {pairs:?}")))?;
                prop_assert_eq!(&q, &want);
                check_links_rebuild(&q)?;
            }
        }
    }

    /// Pages at the very end of 64 bits: the window and pageInfo saturate instead of overflowing.
    #[test]
    fn windows_at_the_edge_of_64_bits_never_overflow(
        c in prop_oneof![any::<u64>(), (u64::MAX - 300)..=u64::MAX, 0u64..300],
        previous in any::<bool>(),
        ps in 1u32..=250,
        returned in 0usize..=250,
        total in prop_oneof![any::<u64>(), (u64::MAX - 300)..=u64::MAX],
    ) {
        let dir = if previous { Direction::Previous } else { Direction::Next };
        let w = PageWindow::new(Cursor(c), dir, ps);
        match dir {
            Direction::Next => prop_assert_eq!(w.offset, c),
            Direction::Previous => prop_assert_eq!(w.offset + w.limit, c),
        }
        let info = w.page_info(returned.min(w.limit as usize), total);
        prop_assert_eq!(info.has_next_page, info.next_cursor.is_some());
        if let Some(next) = info.next_cursor {
            prop_assert!(next.offset() >= w.offset && next.offset() < total);
        }
    }
}

/// The links of a query (`to_pairs`, which leaves the shop out) rebuild it, with the shop given by
/// the caller or as a parameter, and say the same thing again.
fn check_links_rebuild(q: &ListQuery) -> Result<(), TestCaseError> {
    let pairs = q.to_pairs();
    let again = ListQuery::parse(pairs.clone(), Some(&q.shop_domain));
    prop_assert_eq!(again.as_ref(), Ok(q));
    let mut with_shop = pairs.clone();
    with_shop.push(("shop_domain", q.shop_domain.clone()));
    let from_params = ListQuery::parse(with_shop, None);
    prop_assert_eq!(from_params.as_ref(), Ok(q));
    prop_assert_eq!(again.unwrap().to_pairs(), pairs);
    Ok(())
}

/// Surrounding blanks a value may carry (`trim` removes Unicode white space too).
fn blank() -> impl Strategy<Value = String> {
    "[ \t\u{a0}\u{3000}]{0,2}"
}

/// A scalar parameter written 1–3 times (same value, any padding), perhaps with empty copies.
fn scalar(key: &'static str, value: String) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((blank(), blank(), any::<bool>()), 1..4).prop_map(move |copies| {
        let mut out: Vec<(String, String)> = copies
            .iter()
            .map(|(a, b, empty)| {
                let v = if *empty {
                    format!("{a}{b}")
                } else {
                    format!("{a}{value}{b}")
                };
                (key.to_owned(), v)
            })
            .collect();
        // At least one copy carries the value.
        out.push((key.to_owned(), value.clone()));
        out
    })
}

/// A list parameter: the items split across 1–3 parameters, with spaces and empty items.
fn list<T: Copy + std::fmt::Debug + 'static>(
    key: &'static str,
    all: &'static [T],
    word: fn(T) -> &'static str,
) -> impl Strategy<Value = (Vec<(String, String)>, Vec<T>)> {
    prop::collection::vec(
        prop::collection::vec(
            (prop::sample::select(all), blank(), blank(), any::<bool>()),
            0..4,
        ),
        1..4,
    )
    .prop_map(move |groups| {
        let mut items = Vec::new();
        let pairs = groups
            .iter()
            .map(|group| {
                let text: Vec<String> = group
                    .iter()
                    .map(|(t, a, b, extra_comma)| {
                        items.push(*t);
                        format!("{a}{}{b}{}", word(*t), if *extra_comma { "," } else { "" })
                    })
                    .collect();
                (key.to_owned(), text.join(","))
            })
            .collect();
        (pairs, items)
    })
}

/// A date bound as written (`YYYY-MM-DD` or RFC 3339 with any offset), with the instants it means
/// as a start and as an end.
fn date_bound() -> impl Strategy<Value = (String, DateTime<Utc>, DateTime<Utc>)> {
    prop_oneof![
        (0i64..4_102_444_800).prop_map(|secs| {
            let day = DateTime::from_timestamp(secs, 0).unwrap().date_naive();
            let start = day.and_hms_opt(0, 0, 0).unwrap().and_utc();
            let end = start + Duration::days(1) - Duration::microseconds(1);
            (day.format("%Y-%m-%d").to_string(), start, end)
        }),
        (
            0i64..4_102_444_800,
            0u32..1_000_000_000,
            -1439i32..=1439,
            any::<bool>()
        )
            .prop_map(|(secs, nanos, minutes, z)| {
                let t = DateTime::from_timestamp(secs, nanos).unwrap();
                let offset = FixedOffset::east_opt(minutes * 60).unwrap();
                let shown = t
                    .with_timezone(&offset)
                    .to_rfc3339_opts(SecondsFormat::AutoSi, z && minutes == 0);
                (shown, t, t)
            }),
    ]
}

type QuerySpec = (Vec<(String, String)>, bool, ListQuery);

fn valid_query() -> impl Strategy<Value = QuerySpec> {
    let shop = "[a-zA-Z0-9]([a-zA-Z0-9.-]{0,30}[a-zA-Z0-9])?";
    (
        (shop, any::<bool>()),
        prop::option::of(prop::sample::select(Tab::ALL)),
        prop::option::of((1u32..=250, 0usize..4)),
        prop::option::of((any::<u64>(), 0usize..4, any::<u64>())),
        prop::option::of(prop::sample::select(vec![
            Direction::Next,
            Direction::Previous,
        ])),
        prop::option::of(list("status", OrderStatus::ALL, OrderStatus::as_str)),
        prop::option::of(list("priority", Priority::ALL, Priority::as_str)),
        // Any name but one with a NUL character, which no PostgreSQL text can hold (a 400).
        prop::option::of(prop_oneof![
            Just(UNASSIGNED.to_owned()),
            "[^\\x00\\n]{1,20}"
        ]),
        (
            prop::option::of(date_bound()),
            prop::option::of(date_bound()),
            // A search of 3 to 100 characters that are not blank at either end.
            prop::option::of("[^\\s\\x00][^\\x00\\n]{1,98}[^\\s\\x00]"),
        ),
        prop::collection::vec(
            (
                prop::sample::select(vec!["page_size", "Tab", "sort", "", "shop", "STATUS"]),
                ".{0,10}",
            ),
            0..3,
        ),
    )
        .prop_flat_map(
            |(
                (shop, shop_in_params),
                tab,
                page,
                cursor,
                direction,
                statuses,
                priorities,
                assignee,
                (start, end, search),
                noise,
            )| {
                let mut scalars: Vec<BoxedStrategy<Vec<(String, String)>>> = Vec::new();
                let mut want = ListQuery::for_shop(shop.to_ascii_lowercase());
                if shop_in_params {
                    scalars.push(scalar("shop_domain", shop.clone()).boxed());
                }
                if let Some(t) = tab {
                    want.tab = t;
                    scalars.push(scalar("tab", t.as_str().to_owned()).boxed());
                }
                if let Some((n, zeros)) = page {
                    want.page_size = n;
                    scalars.push(scalar("pageSize", format!("{}{n}", "0".repeat(zeros))).boxed());
                }
                if let Some((n, zeros, mask)) = cursor {
                    want.cursor = Some(Cursor(n));
                    let digits = mixed_case(&base36(u128::from(n)), mask);
                    scalars.push(
                        scalar("cursor", format!("ofs:{}{digits}", "0".repeat(zeros))).boxed(),
                    );
                }
                if let Some(d) = direction {
                    want.direction = d;
                    scalars.push(scalar("direction", d.as_str().to_owned()).boxed());
                }
                let mut lists = Vec::new();
                if let Some((pairs, items)) = statuses {
                    want.filter.statuses = items;
                    lists.extend(pairs);
                }
                if let Some((pairs, items)) = priorities {
                    want.filter.priorities = items;
                    lists.extend(pairs);
                }
                if let Some(a) = assignee
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                {
                    want.filter.assigned_to = Some(if a == UNASSIGNED {
                        AssigneeFilter::Unassigned
                    } else {
                        AssigneeFilter::Person(a.clone())
                    });
                    scalars.push(scalar("assigned_to", a).boxed());
                }
                if let Some((raw, from, _)) = start {
                    want.filter.created_from = Some(from);
                    want.date_start = Some(raw.clone());
                    scalars.push(scalar("date_start", raw).boxed());
                }
                if let Some((raw, _, until)) = end {
                    want.filter.created_until = Some(until);
                    want.date_end = Some(raw.clone());
                    scalars.push(scalar("date_end", raw).boxed());
                }
                if let Some(text) = search {
                    want.filter.search = Some(Search::parse(&text).unwrap());
                    // Its blank copies are sent empty: a blank search is a 400, not "not given".
                    let copies = scalar("query", text).prop_map(|pairs| {
                        let blank_to_empty = |(k, v): (String, String)| {
                            let v = if v.trim().is_empty() {
                                String::new()
                            } else {
                                v
                            };
                            (k, v)
                        };
                        pairs.into_iter().map(blank_to_empty).collect()
                    });
                    scalars.push(copies.boxed());
                }
                let noise: Vec<(String, String)> =
                    noise.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                (
                    scalars,
                    Just(lists),
                    Just(noise),
                    Just(shop_in_params),
                    Just(want),
                )
            },
        )
        .prop_flat_map(|(scalars, lists, noise, shop_in_params, want)| {
            // Scalars and noise in any order; list parameters keep their relative order, which is
            // the order of their items.
            let mut pairs: Vec<(String, String)> = scalars.into_iter().flatten().collect();
            pairs.extend(noise);
            (
                Just(pairs).prop_shuffle(),
                prop::collection::vec(any::<Index>(), lists.len()),
                Just(lists),
                Just(shop_in_params),
                Just(want),
            )
        })
        .prop_map(|(mut pairs, at, lists, shop_in_params, want)| {
            // Insert each list parameter after the previous one, at a random place.
            let mut floor = 0;
            for (pair, at) in lists.into_iter().zip(at) {
                let place = floor + at.index(pairs.len() - floor + 1);
                pairs.insert(place, pair);
                floor = place + 1;
            }
            (pairs, shop_in_params, want)
        })
}

#[test]
fn query_filters_default_when_every_value_is_blank() {
    let filters = KNOWN[1..].iter().filter(|k| **k != "query");
    let blanks: Vec<(&str, &str)> = filters.map(|k| (*k, " \u{3000} ")).collect();
    let q = ListQuery::parse(blanks.clone(), Some("acme.myshopify.com")).unwrap();
    assert_eq!(q, ListQuery::for_shop("acme.myshopify.com"));
    assert_eq!(q.filter, OrderFilter::default());
    assert!(q.to_pairs().is_empty());
    // An empty search is not given; a blank one is a search of no characters.
    let mut with_search = blanks.clone();
    with_search.push(("query", ""));
    let q = ListQuery::parse(with_search, Some("acme.myshopify.com")).unwrap();
    assert_eq!(q, ListQuery::for_shop("acme.myshopify.com"));
    let mut with_search = blanks;
    with_search.push(("query", " \u{3000} "));
    let err = ListQuery::parse(with_search, Some("acme.myshopify.com")).unwrap_err();
    assert_eq!(err.param, "query");
}

#[test]
fn a_date_only_bound_at_the_end_of_the_calendar_does_not_overflow() {
    // The largest `YYYY-MM-DD` a 10-character bound can name, as a start and as an end.
    for date in ["9999-12-31", "0000-01-01"] {
        let q = ListQuery::parse(
            [("date_start", date), ("date_end", date)],
            Some("a.myshopify.com"),
        )
        .unwrap();
        let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
        assert_eq!(
            q.filter.created_from,
            Some(day.and_hms_opt(0, 0, 0).unwrap().and_utc())
        );
    }
}
