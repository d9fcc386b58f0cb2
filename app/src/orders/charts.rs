//! The two pictures above the table, drawn as inline SVG from the view's [`OrderStats`]: the
//! returns funnel (orders per return state) and the orders-per-day sparkline. Each carries its
//! numbers as text for screen readers and on hover, so the picture is never the only way to read
//! them.

use leptos::either::Either;
use leptos::prelude::*;
use orders_core::ReturnState;

use super::drawer::return_label;

/// The two pictures of the view: orders per return state (all eight, in order) and orders per
/// day (oldest first, today last) with each day's label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pictures {
    pub returns: Vec<(ReturnState, u64)>,
    pub days: Vec<(String, u64)>,
}

// Every coordinate is a whole SVG unit, so that drawing needs no floating-point formatting (which
// would add its code to the WASM): 30 days over 290 units are 10 units apart.

/// Width and height of the sparkline's drawing, in SVG units.
const SPARK_W: u64 = 290;
const SPARK_H: u64 = 48;

/// The sparkline's points for `counts`, oldest first: x spreads the days over the width, y puts
/// zero on the baseline and the largest count at the top (a unit of margin at both).
pub fn spark_points(counts: &[u64], width: u64, height: u64) -> Vec<(u64, u64)> {
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let last = counts.len().saturating_sub(1).max(1) as u64;
    let span = height - 2;
    counts
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let x = (i as u64 * width + last / 2) / last;
            let y = 1 + (span * (max - n.min(max)) + max / 2) / max;
            (x.min(width), y)
        })
        .collect()
}

/// The length of each funnel bar out of `full`, the largest count getting all of it; a count
/// above zero is never drawn shorter than 2 units.
pub fn bar_lengths(counts: &[u64], full: u64) -> Vec<u64> {
    let max = counts.iter().copied().max().unwrap_or(0);
    counts
        .iter()
        .map(|&n| match n {
            0 => 0,
            n => ((full * n + max / 2) / max).max(2),
        })
        .collect()
}

/// The colour of a state's bar: open states in blue, refunded ones green, stopped ones grey.
fn bar_colour(state: ReturnState) -> &'static str {
    match state {
        ReturnState::Completed | ReturnState::AwaitingRefund => "fill-success",
        ReturnState::Denied | ReturnState::Cancelled => "fill-secondary",
        _ => "fill-emphasis",
    }
}

/// Both pictures as HTML: drawn once, on the server, so the browser only shows them (a page's
/// pictures change only when its data does, and then the server draws them again).
pub fn to_html(stats: Pictures) -> String {
    view! { <BothPictures stats/> }.to_html()
}

/// Both pictures, side by side (stacked on a narrow screen). A picture of nothing but zeros is
/// not drawn: a sentence says there is nothing to show.
#[component]
fn BothPictures(stats: Pictures) -> impl IntoView {
    let Pictures { returns, days } = stats;
    let funnel = if returns.iter().all(|(_, n)| *n == 0) {
        Either::Left(
            view! { <Nothing testid="returns-funnel-empty" text="No returns in this view."/> },
        )
    } else {
        Either::Right(view! { <ReturnsFunnel returns/> })
    };
    let sparkline = if days.iter().all(|(_, n)| *n == 0) {
        let text = format!("No orders in this view over the last {} days.", days.len());
        Either::Left(view! { <Nothing testid="orders-sparkline-empty" text/> })
    } else {
        Either::Right(view! { <Sparkline days/> })
    };
    view! {
        <div class="grid gap-3 md:grid-cols-2">
            {funnel}
            {sparkline}
        </div>
    }
}

/// A picture that would show only zeros, said in words.
#[component]
fn Nothing(testid: &'static str, #[prop(into)] text: String) -> impl IntoView {
    view! {
        <p class="rounded-lg border border-dashed px-3 py-4 text-center text-secondary" data-testid=testid>
            {text}
        </p>
    }
}

#[component]
fn ReturnsFunnel(returns: Vec<(ReturnState, u64)>) -> impl IntoView {
    let counts: Vec<u64> = returns.iter().map(|(_, n)| *n).collect();
    let label_w: u64 = 120;
    let bar_w: u64 = 150;
    let lengths = bar_lengths(&counts, bar_w);
    let total: u64 = counts.iter().sum();
    let row_h: u64 = 16;
    let height = row_h * returns.len() as u64;
    let summary = returns
        .iter()
        .map(|(s, n)| format!("{} {n}", return_label(*s).to_ascii_lowercase()))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = returns
        .into_iter()
        .zip(lengths)
        .enumerate()
        .map(|(i, ((state, n), w))| {
            let y = i as u64 * row_h;
            view! {
                <g data-state=state.as_str()>
                    <title>{format!("{}: {n}", return_label(state))}</title>
                    <text x="0" y=y + 12 class="fill-current text-[11px]">{return_label(state)}</text>
                    <rect x=label_w y=y + 3 width=w height="10" rx="2" class=bar_colour(state)/>
                    <text x=label_w + w + 4 y=y + 12 class="fill-current text-[11px] tabular-nums" data-count="">
                        {n}
                    </text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="rounded-lg border bg-surface px-3 py-2 shadow-sm" data-testid="returns-funnel">
            <figcaption class="mb-1 text-xs font-medium text-secondary">
                {format!("Returns by state · {total} in this view")}
            </figcaption>
            <svg
                viewBox=format!("0 0 {} {height}", label_w + bar_w + 40)
                class="h-auto w-full max-w-md"
                role="img"
                aria-label=format!("Returns by state: {summary}")
            >
                {rows}
            </svg>
        </figure>
    }
}

#[component]
fn Sparkline(days: Vec<(String, u64)>) -> impl IntoView {
    let counts: Vec<u64> = days.iter().map(|(_, n)| *n).collect();
    let points = spark_points(&counts, SPARK_W, SPARK_H);
    let line = points
        .iter()
        .map(|(x, y)| format!("{x},{y}"))
        .collect::<Vec<_>>()
        .join(" ");
    let area = format!("0,{SPARK_H} {line} {SPARK_W},{SPARK_H}");
    let total: u64 = counts.iter().sum();
    let busiest = days
        .iter()
        .enumerate()
        .max_by_key(|(i, (_, n))| (*n, std::cmp::Reverse(*i)))
        .map(|(_, day)| day.clone());
    let today = days.last().map(|(_, n)| *n).unwrap_or(0);
    let last = points.last().copied();
    let described = match busiest {
        Some((day, n)) if n > 0 => format!(
            "Orders per day over the last {} days: {total} in all, {today} today, at most {n} on {}",
            days.len(),
            day
        ),
        _ => format!("Orders per day over the last {} days: none", days.len()),
    };
    let dots = days
        .iter()
        .zip(points.iter())
        .map(|((day, n), (x, y))| {
            view! {
                <circle cx=*x cy=*y r="6" class="fill-transparent">
                    <title>{format!("{day}: {n}")}</title>
                </circle>
            }
        })
        .collect_view();
    view! {
        <figure class="rounded-lg border bg-surface px-3 py-2 shadow-sm" data-testid="orders-sparkline" data-total=total>
            <figcaption class="mb-1 flex justify-between text-xs font-medium text-secondary">
                <span>{format!("Orders per day · last {} days", days.len())}</span>
                <span class="tabular-nums">{format!("{total} in all · {today} today")}</span>
            </figcaption>
            <svg viewBox=format!("-2 -2 {} {}", SPARK_W + 4, SPARK_H + 4) class="h-12 w-full" preserveAspectRatio="none" role="img" aria-label=described>
                <polygon points=area class="fill-info-secondary"/>
                <polyline points=line class="fill-none stroke-emphasis" stroke-width="1.5" vector-effect="non-scaling-stroke"/>
                {last.map(|(x, y)| view! { <circle cx=x cy=y r="2.5" class="fill-emphasis"/> })}
                {dots}
            </svg>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sparkline_spans_the_width_with_zero_on_the_baseline_and_the_peak_on_top() {
        let points = spark_points(&[0, 5, 10], 290, 48);
        assert_eq!(points, vec![(0, 47), (145, 24), (290, 1)]);
    }

    #[test]
    fn thirty_days_are_ten_units_apart() {
        let points = spark_points(&[1; 30], SPARK_W, SPARK_H);
        assert_eq!(points.len(), 30);
        assert!(points.windows(2).all(|w| w[1].0 - w[0].0 == 10));
        assert_eq!(points.last().unwrap().0, SPARK_W);
    }

    #[test]
    fn a_flat_or_empty_series_does_not_divide_by_zero() {
        assert_eq!(spark_points(&[0, 0], 290, 48), vec![(0, 47), (290, 47)]);
        assert_eq!(spark_points(&[3], 290, 48), vec![(0, 1)]);
        assert!(spark_points(&[], 290, 48).is_empty());
    }

    #[test]
    fn a_picture_of_zeros_is_not_drawn() {
        let zeros = Pictures {
            returns: ReturnState::ALL.iter().map(|s| (*s, 0)).collect(),
            days: (1..=30).map(|d| (format!("Nov {d}"), 0)).collect(),
        };
        let html = to_html(zeros.clone());
        assert!(!html.contains("<svg"), "{html}");
        assert!(html.contains("No returns in this view."));
        assert!(html.contains("No orders in this view over the last 30 days."));

        let mut some = zeros;
        some.returns[0].1 = 3;
        let html = to_html(some);
        assert!(html.contains("data-testid=\"returns-funnel\""), "{html}");
        assert!(html.contains("orders-sparkline-empty"));
    }

    #[test]
    fn the_largest_state_gets_the_full_bar_and_a_small_one_stays_visible() {
        assert_eq!(bar_lengths(&[2, 4, 0], 150), vec![75, 150, 0]);
        assert_eq!(bar_lengths(&[1, 1000], 150), vec![2, 150]);
        assert_eq!(bar_lengths(&[0, 0], 150), vec![0, 0]);
    }
}
