//! The alerts of the in-memory store: the same evaluation as PostgreSQL's, over the core's rules
//! directly. Ids and resolution numbers only grow within a shop; the store's one lock serialises
//! evaluations.

use chrono::{DateTime, Utc};
use orders_core::alerts::{
    holding, message, plan_shipment_alerts, Alert, Digest, DigestLine, OpenAlert, Severity,
};
use orders_core::{AlertKind, Thresholds};

use super::MemoryStore;
use crate::store::{AlertChanges, AlertMark, StoreError};

impl MemoryStore {
    pub async fn evaluate_alerts(
        &self,
        shop: &str,
        now: DateTime<Utc>,
        th: &Thresholds,
        // The sample shop is small: its whole pass gives the same answer for any orders named.
        _only: Option<&[String]>,
    ) -> Result<AlertChanges, StoreError> {
        let mut shops = self.lock();
        let Some(data) = shops.get_mut(shop) else {
            return Ok(AlertChanges::default());
        };
        let open: Vec<OpenAlert> = data
            .alerts
            .iter()
            .filter(|(a, _)| a.resolved_at.is_none())
            .map(|(a, _)| OpenAlert {
                id: a.id,
                kind: a.kind,
                order_id: a.order_id.clone(),
            })
            .collect();
        // Oldest orders first, as PostgreSQL raises them.
        let mut orders: Vec<_> = data.orders.iter().collect();
        orders.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.id.as_bytes().cmp(b.id.as_bytes()))
        });
        let mut conditions = Vec::new();
        let mut numbers = std::collections::HashMap::new();
        for o in &orders {
            for kind in holding(&o.facts(), now, th) {
                conditions.push((kind, o.id.clone()));
                numbers.insert(o.id.clone(), o.order_number.clone());
            }
        }
        let mut plan = plan_shipment_alerts(&open, conditions.iter().cloned());
        // Raise as PostgreSQL does: tracking pending before delayed, each oldest order first.
        let position: std::collections::HashMap<&(orders_core::AlertKind, String), usize> =
            conditions.iter().enumerate().map(|(i, c)| (c, i)).collect();
        plan.raise.sort_by_key(|c| {
            (
                c.0 != orders_core::AlertKind::TrackingPending,
                position.get(c).copied().unwrap_or(usize::MAX),
            )
        });
        let mut changes = AlertChanges::default();
        for id in plan.resolve {
            if let Some((alert, seq)) = data.alerts.iter_mut().find(|(a, _)| a.id == id) {
                data.resolutions += 1;
                alert.resolved_at = Some(now);
                *seq = Some(data.resolutions);
                changes.resolved.push(id);
            }
        }
        for (kind, order_id) in plan.raise {
            let id = data.alerts.last().map_or(0, |(a, _)| a.id) + 1;
            let number = numbers.get(&order_id).cloned().unwrap_or_default();
            let alert = Alert {
                id,
                kind,
                severity: Severity::of(kind),
                message: message(kind, &number, th),
                order_id: Some(order_id),
                created_at: now,
                resolved_at: None,
            };
            changes.raised.push(alert.clone());
            data.alerts.push((alert, None));
        }
        Ok(changes)
    }

    pub async fn raise_data_gap(
        &self,
        shop: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Alert>, StoreError> {
        let mut shops = self.lock();
        let Some(data) = shops.get_mut(shop) else {
            return Ok(None);
        };
        let open = data
            .alerts
            .iter()
            .any(|(a, _)| a.kind == AlertKind::DataGap && a.resolved_at.is_none());
        if open {
            return Ok(None);
        }
        let alert = Alert {
            id: data.alerts.last().map_or(0, |(a, _)| a.id) + 1,
            kind: AlertKind::DataGap,
            severity: Severity::of(AlertKind::DataGap),
            order_id: None,
            message: text.to_owned(),
            created_at: now,
            resolved_at: None,
        };
        data.alerts.push((alert.clone(), None));
        Ok(Some(alert))
    }

    pub async fn resolve_data_gap(
        &self,
        shop: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, StoreError> {
        let mut shops = self.lock();
        let Some(data) = shops.get_mut(shop) else {
            return Ok(None);
        };
        let Some((alert, seq)) = data
            .alerts
            .iter_mut()
            .find(|(a, _)| a.kind == AlertKind::DataGap && a.resolved_at.is_none())
        else {
            return Ok(None);
        };
        data.resolutions += 1;
        alert.resolved_at = Some(now);
        *seq = Some(data.resolutions);
        Ok(Some(alert.id))
    }

    pub async fn alert_mark(&self, shop: &str) -> Result<AlertMark, StoreError> {
        self.with_shop(shop, |data| {
            Ok(AlertMark {
                alert_id: data.alerts.last().map_or(0, |(a, _)| a.id),
                resolved_seq: data.resolutions,
            })
        })
    }

    /// What happened after `mark` (see the PostgreSQL store).
    pub async fn alerts_since_mark(
        &self,
        shop: &str,
        mark: AlertMark,
    ) -> Result<(AlertChanges, AlertMark), StoreError> {
        self.with_shop(shop, |data| {
            let raised: Vec<Alert> = data
                .alerts
                .iter()
                .filter(|(a, _)| a.id > mark.alert_id)
                .map(|(a, _)| a.clone())
                .collect();
            let mut resolved: Vec<(u64, u64)> = data
                .alerts
                .iter()
                .filter_map(|(a, seq)| seq.filter(|s| *s > mark.resolved_seq).map(|s| (s, a.id)))
                .collect();
            resolved.sort_unstable();
            let next = AlertMark {
                alert_id: raised.last().map_or(mark.alert_id, |a| a.id),
                resolved_seq: resolved.last().map_or(mark.resolved_seq, |(s, _)| *s),
            };
            Ok((
                AlertChanges {
                    raised,
                    resolved: resolved.into_iter().map(|(_, id)| id).collect(),
                },
                next,
            ))
        })
    }

    pub async fn alerts(
        &self,
        shop: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Alert>, StoreError> {
        self.with_shop(shop, |data| {
            Ok(chosen(data, after).take(limit).cloned().collect())
        })
    }

    /// The open alerts of each kind that has any, in `kinds`' order: the count and the `first`
    /// raised.
    pub async fn digests(
        &self,
        shop: &str,
        kinds: &[AlertKind],
        first: usize,
    ) -> Result<Vec<Digest>, StoreError> {
        self.with_shop(shop, |data| {
            let digests = kinds
                .iter()
                .map(|&kind| {
                    let open: Vec<&Alert> = data
                        .alerts
                        .iter()
                        .map(|(a, _)| a)
                        .filter(|a| a.kind == kind && a.resolved_at.is_none())
                        .collect();
                    Digest {
                        kind,
                        count: open.len() as u64,
                        first: open
                            .iter()
                            .take(first)
                            .map(|a| DigestLine {
                                order_id: a.order_id.clone(),
                                order_number: a.order_id.as_ref().and_then(|id| {
                                    data.orders
                                        .iter()
                                        .find(|o| &o.id == id)
                                        .map(|o| o.order_number.clone())
                                }),
                                message: a.message.clone(),
                                created_at: a.created_at,
                            })
                            .collect(),
                    }
                })
                .filter(|d| d.count > 0)
                .collect();
            Ok(digests)
        })
    }

    pub async fn newest_alerts(
        &self,
        shop: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Alert>, StoreError> {
        self.with_shop(shop, |data| {
            let mut newest: Vec<Alert> = chosen(data, after).rev().take(limit).cloned().collect();
            newest.reverse();
            Ok(newest)
        })
    }

    pub async fn resolved_up_to(
        &self,
        shop: &str,
        up_to: u64,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        self.with_shop(shop, |data| {
            let mut ids: Vec<(u64, u64)> = data
                .alerts
                .iter()
                .filter(|(a, _)| a.id <= up_to && a.resolved_at.is_some_and(|t| t >= since))
                .filter_map(|(a, seq)| seq.map(|s| (s, a.id)))
                .collect();
            ids.sort_unstable();
            let skip = ids.len().saturating_sub(limit);
            Ok(ids.into_iter().skip(skip).map(|(_, id)| id).collect())
        })
    }
}

/// The alerts `alerts` and `newest_alerts` choose from, oldest first: the open ones (`after` =
/// `None`) or every alert with a greater id.
fn chosen(
    data: &super::ShopData,
    after: Option<u64>,
) -> impl DoubleEndedIterator<Item = &Alert> + '_ {
    data.alerts
        .iter()
        .map(|(a, _)| a)
        .filter(move |a| match after {
            None => a.resolved_at.is_none(),
            Some(id) => a.id > id,
        })
}
