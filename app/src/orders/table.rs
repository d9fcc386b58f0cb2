//! The orders table: one line an order, its badges and markers, and the pagination under it.

use leptos::either::Either;
use leptos::prelude::*;
use orders_core::{AlertKind, FinancialStatus, OrderStatus, Priority, ReturnState};

use super::actions::Actions;
use super::controls::{priority_label, status_label};
use super::model::OrderRow;

/// Whether the page is loading another view (the `Transition`'s pending state), provided by
/// the page.
#[derive(Clone, Copy)]
pub struct Loading(pub RwSignal<bool>);

/// The dense table of orders.
#[component]
pub(super) fn OrdersTable(
    actions: Actions,
    ready: RwSignal<bool>,
    scroll: StoredValue<i32>,
) -> impl IntoView {
    let rows = actions.rows;
    // Another tab or page is on its way: the table says so (`aria-busy`) until it is here.
    // (The page's own signal, read directly: a `Signal` made here would belong to this view,
    // which a Transition keeps on screen after its owner is gone.)
    let loading = use_context::<Loading>().map(|l| l.0);
    // The table scrolls inside the page; a reload of the same view puts it back where it was.
    let frame = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(el) = frame.get() {
            el.set_scroll_top(scroll.get_value());
        }
    });
    let on_scroll = move |_| {
        if let Some(el) = frame.get_untracked() {
            scroll.set_value(el.scroll_top());
        }
    };
    let empty = rows.with_untracked(|r| r.is_empty());
    let all_selected = move || {
        let n = rows.with(|r| r.len());
        n > 0 && actions.selected.with(|s| s.len()) == n
    };
    let toggle_all = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        actions.selected.set(if on {
            rows.with_untracked(|r| r.iter().map(|r| r.id.clone()).collect())
        } else {
            Vec::new()
        });
    };
    view! {
        <div
            node_ref=frame
            on:scroll=on_scroll
            class="relative max-h-[75vh] overflow-auto rounded-lg border bg-surface shadow-sm"
            data-testid="orders-scroll"
        >
            <table
                class="min-w-full text-left"
                data-testid="orders-table"
                aria-busy=move || loading.is_some_and(|l| l.get()).to_string()
            >
                <thead class="sticky top-0 z-[5] border-b bg-surface-secondary text-xs font-medium text-secondary shadow-[0_1px_0_0_var(--p-color-border)]">
                    <tr>
                        <th scope="col" class="w-8 px-3 py-2">
                            <input
                                type="checkbox"
                                aria-label="Select every order on this page"
                                class="size-4 align-middle accent-brand"
                                disabled=move || !ready.get() || empty
                                prop:checked=all_selected
                                on:change=toggle_all
                            />
                        </th>
                        <th scope="col" class="px-3 py-2">"Order"</th>
                        <th scope="col" class="px-3 py-2">"Date"</th>
                        <th scope="col" class="px-3 py-2">"Customer"</th>
                        <th scope="col" class="px-3 py-2 text-right">"Total"</th>
                        <th scope="col" class="px-3 py-2">"Payment"</th>
                        <th scope="col" class="px-3 py-2">"Fulfillment"</th>
                        <th scope="col" class="px-3 py-2">"Priority"</th>
                        <th scope="col" class="px-3 py-2">"Assignee"</th>
                        <th scope="col" class="px-3 py-2">"Alerts"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-secondary">
                    {empty
                        .then(|| {
                            view! {
                                <tr>
                                    <td colspan="10" class="px-3 py-8 text-center text-secondary">
                                        <p class="font-medium text-default">"No orders in this view."</p>
                                        <p class="mt-1">
                                            "Try another tab, widen the dates, or clear the filters."
                                        </p>
                                    </td>
                                </tr>
                            }
                        })}
                    <For
                        each=move || rows.get()
                        key=|r| {
                            // Every fact an action changes at once, so the row shows the change.
                            (
                                r.id.clone(),
                                r.assigned_to.clone(),
                                r.status,
                                r.alerts.clone(),
                                r.return_state,
                                r.support_thread.clone(),
                            )
                        }
                        children=move |row| view! { <OrderLine row actions ready/> }
                    />
                </tbody>
            </table>
        </div>
    }
}

/// One order.
#[component]
fn OrderLine(row: OrderRow, actions: Actions, ready: RwSignal<bool>) -> impl IntoView {
    let OrderRow {
        id,
        detail_href,
        order_number,
        customer,
        email,
        total,
        total_title,
        status,
        financial_status,
        priority,
        assigned_to,
        created_at,
        created_label,
        created_title,
        age,
        alerts,
        return_state,
        support_thread,
    } = row;
    let checked = {
        let id = id.clone();
        move || actions.selected.with(|s| s.contains(&id))
    };
    let toggle = {
        let id = id.clone();
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            actions.selected.update(|s| {
                s.retain(|x| x != &id);
                if on {
                    s.push(id.clone());
                }
            });
        }
    };
    let select_label = format!("Select order {order_number}");
    view! {
        <tr class="hover:bg-surface-hover has-checked:bg-surface-selected" data-order-id=id>
            <td class="px-3 py-1.5">
                <input
                    type="checkbox"
                    aria-label=select_label
                    class="size-4 align-middle accent-brand"
                    disabled=move || !ready.get()
                    prop:checked=checked
                    on:change=toggle
                />
            </td>
            <td class="whitespace-nowrap px-3 py-1.5 font-medium">
                <a
                    href=detail_href
                    class="text-link underline-offset-2 hover:underline focus:outline-none focus:ring-2 focus:ring-focus"
                    data-testid="order-link"
                >
                    {order_number}
                </a>
            </td>
            <td class="whitespace-nowrap px-3 py-1.5 text-secondary">
                <time datetime=created_at title=created_title>
                    {created_label}
                </time>
                <span class="ml-1.5 text-xs text-secondary">{age}</span>
            </td>
            <td class="max-w-48 truncate px-3 py-1.5" title=email>
                {customer}
            </td>
            <td class="whitespace-nowrap px-3 py-1.5 text-right tabular-nums" title=total_title>
                {total}
            </td>
            <td class="px-3 py-1.5">
                <FinancialBadge status=financial_status/>
            </td>
            <td class="px-3 py-1.5">
                <StatusBadge status/>
            </td>
            <td class="px-3 py-1.5">
                <PriorityLabel priority/>
            </td>
            <td class="whitespace-nowrap px-3 py-1.5 text-default">
                {assigned_to
                    .map(|a| {
                        let shown = a.clone();
                        Either::Left(view! { <span data-assignee=a>{shown}</span> })
                    })
                    .unwrap_or_else(|| {
                        Either::Right(view! {
                            <span class="text-secondary" title="Unassigned">
                                "—"
                                <span class="sr-only">"Unassigned"</span>
                            </span>
                        })
                    })}
            </td>
            <td class="px-3 py-1.5">
                <Markers alerts return_state support=support_thread.is_some()/>
            </td>
        </tr>
    }
}

const BADGE: &str = "badge";

/// Fulfillment status, coloured by how much it needs attention.
#[component]
pub(super) fn StatusBadge(status: OrderStatus) -> impl IntoView {
    let label = status_label(status);
    let colour = match status {
        OrderStatus::Unfulfilled | OrderStatus::PartiallyFulfilled => "tone-attention",
        OrderStatus::Fulfilled => "",
        OrderStatus::OnHold => "tone-warning",
        OrderStatus::Cancelled => "tone-read-only line-through",
    };
    view! {
        <span class=format!("{BADGE} {colour}") data-status=status.as_str()>
            {label}
        </span>
    }
}

/// Where the money stands.
#[component]
pub(super) fn FinancialBadge(status: FinancialStatus) -> impl IntoView {
    let (label, colour) = match status {
        FinancialStatus::Pending => ("Payment pending", "tone-attention"),
        FinancialStatus::Authorized => ("Authorized", "tone-attention"),
        FinancialStatus::Paid => ("Paid", ""),
        FinancialStatus::PartiallyPaid => ("Partially paid", "tone-attention"),
        FinancialStatus::PartiallyRefunded => ("Partially refunded", ""),
        FinancialStatus::Refunded => ("Refunded", ""),
        FinancialStatus::Voided => ("Voided", "tone-read-only"),
    };
    view! {
        <span class=format!("{BADGE} {colour}") data-financial=status.as_str()>
            {label}
        </span>
    }
}

/// Priority: quiet unless it is high or urgent.
#[component]
pub(super) fn PriorityLabel(priority: Priority) -> impl IntoView {
    let label = priority_label(priority);
    let class = match priority {
        Priority::Low => "text-secondary",
        Priority::Normal => "text-secondary",
        Priority::High => "font-medium text-warning",
        Priority::Urgent => "font-semibold text-critical",
    };
    view! {
        <span class=class data-priority=priority.as_str()>
            {label}
        </span>
    }
}

/// Shipment alerts, an open return, an open support escalation.
#[component]
pub(super) fn Markers(
    alerts: Vec<AlertKind>,
    return_state: Option<ReturnState>,
    support: bool,
) -> impl IntoView {
    let alerts = alerts
        .into_iter()
        .map(|kind| {
            let (label, colour) = match kind {
                AlertKind::TrackingPending => ("Tracking pending", "tone-attention"),
                AlertKind::Delayed => ("Delayed", "tone-critical"),
                AlertKind::DataGap => ("Data gap", "tone-critical"),
            };
            view! {
                <span class=format!("{BADGE} {colour}") data-alert=kind.as_str()>
                    {label}
                </span>
            }
        })
        .collect_view();
    let open_return = return_state.filter(|s| !s.is_terminal()).map(|s| {
        view! {
            <span class=format!("{BADGE} tone-info") data-return=s.as_str()>
                {format!("Return · {}", s.as_str().replace('_', " "))}
            </span>
        }
    });
    let support = support.then(|| {
        view! { <span class=BADGE>"Support"</span> }
    });
    view! { <div class="flex flex-wrap gap-1">{alerts} {open_return} {support}</div> }
}

/// "1–50 of 300" and the previous/next links, built from the page's cursors.
#[component]
pub(super) fn Pagination(
    first_row: u64,
    last_row: u64,
    total: u64,
    previous_href: Option<String>,
    next_href: Option<String>,
) -> impl IntoView {
    let link = "rounded-md bg-fill px-3 py-1 font-medium shadow-button hover:bg-fill-hover";
    let off = "rounded-md border px-3 py-1 text-secondary";
    let previous = match previous_href {
        Some(href) => Either::Left(view! { <a href=href rel="prev" class=link>"Previous"</a> }),
        None => Either::Right(view! { <span aria-disabled="true" class=off>"Previous"</span> }),
    };
    let next = match next_href {
        Some(href) => Either::Left(view! { <a href=href rel="next" class=link>"Next"</a> }),
        None => Either::Right(view! { <span aria-disabled="true" class=off>"Next"</span> }),
    };
    view! {
        <nav aria-label="Pagination" class="flex items-center justify-between">
            <p class="text-secondary tabular-nums" data-testid="page-range">
                {if total == 0 {
                    "No orders".to_owned()
                } else {
                    format!("{first_row}–{last_row} of {total}")
                }}
            </p>
            <div class="flex gap-2">{previous} {next}</div>
        </nav>
    }
}
