//! What the order drawer only shows, drawn once on the server as HTML: the customer and the
//! total, every fact of the order, its shipments and its timeline. The browser puts the HTML in
//! place and carries no code to draw it (nor to read those facts); a change to the order reloads
//! the page's data, and the server draws them again.

use leptos::either::Either;
use leptos::prelude::*;
use orders_core::ShipmentStatus;

use super::drawer::HEADING;
use super::model::{OrderFacts, ShipmentLine, TimelineLine};
use super::table::{FinancialBadge, Markers, PriorityLabel, StatusBadge};

/// The drawer's three drawn parts: the facts (with the customer, the total and the admin link),
/// the shipments, and the timeline.
pub fn to_html(facts: OrderFacts) -> (String, String, String) {
    let OrderFacts {
        customer,
        email,
        total,
        total_title,
        status,
        financial_status,
        priority,
        tags,
        created_at,
        created_label,
        updated_at,
        updated_label,
        alerts,
        admin_href,
        shipments,
        timeline,
    } = facts;
    let summary = view! {
        <div class="px-4 pb-3 text-default">
            <p>{customer} {email.map(|e| format!(" · {e}"))}</p>
            <p class="tabular-nums" title=total_title>{total}</p>
            {admin_href.map(|href| view! {
                <a
                    href=href
                    target="_top"
                    rel="noopener"
                    class="mt-1 inline-block font-medium text-link underline"
                    data-testid="drawer-admin-link"
                >
                    "Open in Shopify admin"
                </a>
            })}
        </div>
        <dl class="grid grid-cols-[6rem_1fr] items-center gap-x-3 gap-y-1 border-t px-4 py-3" data-testid="drawer-facts">
            <dt class=HEADING>"Status"</dt>
            <dd><StatusBadge status/></dd>
            <dt class=HEADING>"Payment"</dt>
            <dd><FinancialBadge status=financial_status/></dd>
            <dt class=HEADING>"Priority"</dt>
            <dd><PriorityLabel priority/></dd>
            <dt class=HEADING>"Tags"</dt>
            <dd data-testid="drawer-tags">
                {if tags.is_empty() { "None".to_owned() } else { tags.join(", ") }}
            </dd>
            <dt class=HEADING>"Created"</dt>
            <dd><time datetime=created_at>{created_label}</time></dd>
            <dt class=HEADING>"Updated"</dt>
            <dd><time datetime=updated_at>{updated_label}</time></dd>
            <dt class=HEADING>"Alerts"</dt>
            <dd data-testid="drawer-alerts">
                {if alerts.is_empty() {
                    Either::Left("None")
                } else {
                    Either::Right(view! { <Markers alerts return_state=None support=false/> })
                }}
            </dd>
        </dl>
    };
    (
        summary.to_html(),
        shipments_html(shipments),
        timeline_html(timeline),
    )
}

fn shipments_html(shipments: Vec<ShipmentLine>) -> String {
    if shipments.is_empty() {
        return view! { <li class="text-secondary">"No shipment yet."</li> }.to_html();
    }
    shipments
        .into_iter()
        .map(|s| {
            let tracking = s
                .tracking
                .unwrap_or_else(|| "No tracking number".to_owned());
            view! {
                <li class="flex items-center justify-between gap-2" data-shipment=s.id>
                    <span>{tracking}</span>
                    <span class="text-xs text-secondary">
                        {shipment_label(s.status)} " · " {s.updated_label}
                    </span>
                </li>
            }
        })
        .collect_view()
        .to_html()
}

fn timeline_html(timeline: Vec<TimelineLine>) -> String {
    timeline
        .into_iter()
        .map(|e| {
            view! {
                <li class="grid grid-cols-[7.5rem_1fr] gap-2" data-event=e.event.clone()>
                    <time class="text-xs text-secondary" datetime=e.at>
                        {e.at_label}
                    </time>
                    <div>
                        <p class="font-medium">{e.event.replace(['.', '_'], " ")}</p>
                        <p class="text-secondary">{e.details}</p>
                    </div>
                </li>
            }
        })
        .collect_view()
        .to_html()
}

/// A shipment's status for people: `in_transit` reads "In transit".
fn shipment_label(status: ShipmentStatus) -> String {
    super::drawer::sentence_case(status.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipment_states_read_as_words() {
        assert_eq!(shipment_label(ShipmentStatus::InTransit), "In transit");
    }

    #[test]
    fn a_shipment_without_tracking_says_so_and_no_shipment_is_said_too() {
        let html = shipments_html(vec![ShipmentLine {
            id: "s1".into(),
            status: ShipmentStatus::LabelCreated,
            tracking: None,
            updated_label: "Sep 27, 14:03".into(),
        }]);
        assert!(html.contains("data-shipment=\"s1\""), "{html}");
        assert!(html.contains("No tracking number"), "{html}");
        assert!(html.contains("Label created"), "{html}");
        assert!(shipments_html(Vec::new()).contains("No shipment yet."));
    }

    #[test]
    fn timeline_entries_keep_their_event_and_time() {
        let html = timeline_html(vec![TimelineLine {
            at: "2026-12-01T15:30:00+00:00".into(),
            at_label: "Dec 1, 15:30".into(),
            event: "order.assigned".into(),
            details: "to Sam".into(),
        }]);
        assert!(html.contains("data-event=\"order.assigned\""), "{html}");
        assert!(
            html.contains("datetime=\"2026-12-01T15:30:00+00:00\""),
            "{html}"
        );
        assert!(html.contains("order assigned"), "{html}");
        assert!(html.contains("to Sam"), "{html}");
    }
}
