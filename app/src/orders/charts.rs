//! The two pictures above the table, drawn as inline SVG from the view's [`OrderStats`]: the
//! returns funnel (orders per return state) and the orders-per-day sparkline. Each carries its
//! numbers as text for screen readers and on hover, so the picture is never the only way to read
//! them.

use leptos::prelude::*;
use orders_core::stats::OrderStats;
use orders_core::ReturnState;

use super::drawer::return_label;

/// Width and height of the sparkline's drawing, in SVG units.
const SPARK_W: f64 = 300.0;
const SPARK_H: f64 = 48.0;

/// The sparkline's points (`x,y` pairs, space-separated) for `counts`, oldest first: x spreads
/// the days over the width, y puts zero on the baseline and the largest count at the top.
pub fn spark_points(counts: &[u64], width: f64, height: f64) -> Vec<(f64, f64)> {
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if counts.len() > 1 {
        width / (counts.len() - 1) as f64
    } else {
        0.0
    };
    counts
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let x = i as f64 * step;
            // Keep a pixel of margin so the line is not cut at the top and bottom.
            let y = 1.0 + (height - 2.0) * (1.0 - n as f64 / max);
            ((x * 10.0).round() / 10.0, (y * 10.0).round() / 10.0)
        })
        .collect()
}

/// The width of each funnel bar as a share (0–1) of the widest, which is the largest count.
pub fn bar_shares(counts: &[u64]) -> Vec<f64> {
    let max = counts.iter().copied().max().unwrap_or(0);
    counts
        .iter()
        .map(|&n| if max == 0 { 0.0 } else { n as f64 / max as f64 })
        .collect()
}

/// The colour of a state's bar: open states in blue, refunded ones green, stopped ones grey.
fn bar_colour(state: ReturnState) -> &'static str {
    match state {
        ReturnState::Completed | ReturnState::AwaitingRefund => "fill-emerald-600",
        ReturnState::Denied | ReturnState::Cancelled => "fill-zinc-400",
        _ => "fill-sky-600",
    }
}

/// Both pictures, side by side (stacked on a narrow screen).
#[component]
pub fn Pictures(stats: OrderStats) -> AnyView {
    let OrderStats {
        returns_by_state,
        per_day,
    } = stats;
    view! {
        <div class="grid gap-3 md:grid-cols-2">
            <ReturnsFunnel returns=returns_by_state/>
            <Sparkline days=per_day/>
        </div>
    }
    .into_any()
}

#[component]
fn ReturnsFunnel(returns: Vec<(ReturnState, u64)>) -> impl IntoView {
    let counts: Vec<u64> = returns.iter().map(|(_, n)| *n).collect();
    let shares = bar_shares(&counts);
    let total: u64 = counts.iter().sum();
    let row_h = 16.0;
    let label_w = 120.0;
    let bar_w = 150.0;
    let height = row_h * returns.len() as f64;
    let summary = returns
        .iter()
        .map(|(s, n)| format!("{} {n}", return_label(*s).to_lowercase()))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = returns
        .into_iter()
        .zip(shares)
        .enumerate()
        .map(|(i, ((state, n), share))| {
            let y = i as f64 * row_h;
            let w = if n > 0 { (bar_w * share).max(2.0) } else { 0.0 };
            view! {
                <g data-state=state.as_str()>
                    <title>{format!("{}: {n}", return_label(state))}</title>
                    <text x="0" y=y + 12.0 class="fill-zinc-700 text-[11px]">{return_label(state)}</text>
                    <rect x=label_w y=y + 3.0 width=w height="10" rx="2" class=bar_colour(state)/>
                    <text x=label_w + w + 4.0 y=y + 12.0 class="fill-zinc-700 text-[11px] tabular-nums" data-count="">
                        {n}
                    </text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="rounded-lg border border-zinc-200 bg-white px-3 py-2 shadow-sm" data-testid="returns-funnel">
            <figcaption class="mb-1 text-xs font-medium text-zinc-600">
                {format!("Returns by state · {total} in this view")}
            </figcaption>
            <svg
                viewBox=format!("0 0 {} {height}", label_w + bar_w + 40.0)
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
fn Sparkline(days: Vec<(chrono::NaiveDate, u64)>) -> impl IntoView {
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
        .max_by_key(|(d, n)| (*n, std::cmp::Reverse(*d)))
        .copied();
    let today = days.last().map(|(_, n)| *n).unwrap_or(0);
    let last = points.last().copied();
    let described = match busiest {
        Some((day, n)) if n > 0 => format!(
            "Orders per day over the last {} days: {total} in all, {today} today, at most {n} on {}",
            days.len(),
            day.format("%b %-d")
        ),
        _ => format!("Orders per day over the last {} days: none", days.len()),
    };
    let dots = days
        .iter()
        .zip(points.iter())
        .map(|((day, n), (x, y))| {
            view! {
                <circle cx=*x cy=*y r="6" class="fill-transparent">
                    <title>{format!("{}: {n}", day.format("%b %-d"))}</title>
                </circle>
            }
        })
        .collect_view();
    view! {
        <figure class="rounded-lg border border-zinc-200 bg-white px-3 py-2 shadow-sm" data-testid="orders-sparkline" data-total=total>
            <figcaption class="mb-1 flex justify-between text-xs font-medium text-zinc-600">
                <span>{format!("Orders per day · last {} days", days.len())}</span>
                <span class="tabular-nums">{format!("{total} in all · {today} today")}</span>
            </figcaption>
            <svg viewBox=format!("-2 -2 {} {}", SPARK_W + 4.0, SPARK_H + 4.0) class="h-12 w-full" preserveAspectRatio="none" role="img" aria-label=described>
                <polygon points=area class="fill-sky-100"/>
                <polyline points=line class="fill-none stroke-sky-700" stroke-width="1.5" vector-effect="non-scaling-stroke"/>
                {last.map(|(x, y)| view! { <circle cx=x cy=y r="2.5" class="fill-sky-700"/> })}
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
        let points = spark_points(&[0, 5, 10], 300.0, 48.0);
        assert_eq!(points, vec![(0.0, 47.0), (150.0, 24.0), (300.0, 1.0)]);
    }

    #[test]
    fn a_flat_or_empty_series_does_not_divide_by_zero() {
        assert_eq!(
            spark_points(&[0, 0], 300.0, 48.0),
            vec![(0.0, 47.0), (300.0, 47.0)]
        );
        assert_eq!(spark_points(&[3], 300.0, 48.0), vec![(0.0, 1.0)]);
        assert!(spark_points(&[], 300.0, 48.0).is_empty());
    }

    #[test]
    fn the_largest_state_gets_the_full_bar() {
        assert_eq!(bar_shares(&[2, 4, 0]), vec![0.5, 1.0, 0.0]);
        assert_eq!(bar_shares(&[0, 0]), vec![0.0, 0.0]);
    }
}
