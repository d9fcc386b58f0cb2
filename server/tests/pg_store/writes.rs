//! Writes held to the in-memory store: assign, fulfill, escalate and the return actions answer and
//! persist alike, and concurrent actions on one return apply once.

use chrono::Duration;
use orders_core::record::{OrderRecord, ReturnRecord};
use orders_core::*;
use orders_sync::store::StoreError;

use crate::compare::{assert_same_lists, assert_same_outbox, assert_tallies_count_the_orders};
use crate::fixtures::{data_set, order, refs, seeded};
use crate::{now, TestDb, SHOP};

#[tokio::test]
async fn every_write_answers_and_persists_as_the_memory_store_does() {
    let db = TestDb::new().await;
    let records = data_set(120, 11);
    let stores = seeded(&db, &records).await;
    let at = now() + Duration::minutes(1);
    let live: Vec<&OrderRecord> = records
        .iter()
        .filter(|r| r.cancelled_at.is_none())
        .collect();
    let cancelled: Vec<&OrderRecord> = records
        .iter()
        .filter(|r| r.cancelled_at.is_some())
        .collect();
    let returnable = records
        .iter()
        .find(|r| {
            r.return_
                .as_ref()
                .is_some_and(|x| x.state == ReturnState::AwaitingLabel)
        })
        .expect("the data set has a return awaiting its label");
    let without_return = records.iter().find(|r| r.return_.is_none()).unwrap();

    // Assign by name, numeric id and GID, naming one order twice.
    let assign = AssignCommand {
        shop_domain: SHOP.into(),
        orders: vec![
            OrderRef::Name(live[0].order_number.clone()),
            OrderRef::Id(live[1].id.clone()),
            OrderRef::Id(live[0].id.clone()),
            OrderRef::Id(live[2].id.clone()),
        ],
        assignee: Some("sam".into()),
    };
    let answers = [
        stores[0]
            .assign(&assign, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
        stores[1]
            .assign(&assign, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
    ];
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].len(), 3);
    assert!(answers[0]
        .iter()
        .all(|a| a.id.starts_with("gid://") && a.assigned_to.as_deref() == Some("sam")));

    let unassign = AssignCommand {
        assignee: None,
        ..assign.clone()
    };
    assert_eq!(
        stores[0]
            .assign(&unassign, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
        stores[1]
            .assign(&unassign, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap()
    );

    // Unknown references: 404 naming them as written, in request order, and nothing changes.
    let unknown = AssignCommand {
        shop_domain: SHOP.into(),
        orders: refs(&["#nope", "5001", "424242"]),
        assignee: Some("alex".into()),
    };
    for s in &stores {
        match s.assign(&unknown, at, None).await {
            Err(StoreError::OrdersNotFound(missing)) => {
                assert_eq!(missing, vec!["#nope", "gid://shopify/Order/424242"])
            }
            other => panic!("expected OrdersNotFound, got {other:?}"),
        }
    }
    let other_shop = AssignCommand {
        shop_domain: "nobody.myshopify.com".into(),
        ..assign.clone()
    };
    assert!(
        matches!(stores[0].assign(&other_shop, at, None).await, Err(StoreError::OrdersNotFound(m)) if m.len() == 4)
    );

    // A fulfill naming cancelled orders is refused whole (409, every cancelled GID), writing nothing.
    let refused = FulfillCommand {
        shop_domain: SHOP.into(),
        orders: vec![
            OrderRef::Id(live[3].id.clone()),
            OrderRef::Id(cancelled[0].id.clone()),
            OrderRef::Id(cancelled[1].id.clone()),
        ],
        tracking: None,
    };
    for s in &stores {
        match s.fulfill(&refused, at, None).await {
            Err(StoreError::Cancelled(ids)) => {
                assert_eq!(ids, vec![cancelled[0].id.clone(), cancelled[1].id.clone()])
            }
            other => panic!("expected Cancelled, got {other:?}"),
        }
    }
    assert_same_lists(&stores, at).await;

    // Fulfill with tracking, including orders already fulfilled (a no-op without tracking echoed back).
    let fulfill = FulfillCommand {
        shop_domain: SHOP.into(),
        orders: live[3..12]
            .iter()
            .map(|r| OrderRef::Id(r.id.clone()))
            .collect(),
        tracking: Some(Tracking {
            number: "1Z999".into(),
            carrier: "UPS".into(),
        }),
    };
    let done = [
        stores[0]
            .fulfill(&fulfill, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
        stores[1]
            .fulfill(&fulfill, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
    ];
    assert_eq!(done[0], done[1]);
    for (answer, record) in done[0].iter().zip(&live[3..12]) {
        assert_eq!(answer.fulfillment_status, FulfillmentStatus::Fulfilled);
        let was_fulfilled = record.fulfillment_status == FulfillmentStatus::Fulfilled;
        assert_eq!(answer.tracking.is_none(), was_fulfilled, "{}", record.id);
    }
    let untracked = FulfillCommand {
        orders: vec![OrderRef::Id(live[12].id.clone())],
        tracking: None,
        ..fulfill
    };
    assert_eq!(
        stores[0]
            .fulfill(&untracked, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
        stores[1]
            .fulfill(&untracked, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap()
    );

    // Escalate: a new open thread, handed to the assistant.
    let support = SupportCommand {
        shop_domain: SHOP.into(),
        order: OrderRef::Name(live[13].order_number.clone()),
        conversation_id: None,
        note: "Where is my parcel?".into(),
    };
    let escalated = [
        stores[0]
            .escalate(&support, "conv_new", at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
        stores[1]
            .escalate(&support, "conv_new", at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
    ];
    assert_eq!(escalated[0], escalated[1]);
    assert_eq!(
        escalated[0],
        EscalatedOrder {
            id: live[13].id.clone(),
            support_thread: "conv_new".into()
        }
    );

    // Returns: a legal move, a forbidden one (409 naming state and action), and an order without one.
    let action = |a: ReturnAction, order: &OrderRecord| ReturnCommand {
        shop_domain: SHOP.into(),
        order: OrderRef::Id(order.id.clone()),
        action: a,
        note: Some("checked".into()),
    };
    let moved = action(ReturnAction::GenerateLabel, returnable);
    let plans = [
        stores[0]
            .apply_return_action(&moved, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
        stores[1]
            .apply_return_action(&moved, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
    ];
    assert_eq!(plans[0], plans[1]);
    assert_eq!(plans[0].to, ReturnState::LabelGenerated);
    for s in &stores {
        match s
            .apply_return_action(&action(ReturnAction::Complete, returnable), at, None)
            .await
        {
            Err(StoreError::Transition(TransitionError::NotAllowed { state, action })) => {
                assert_eq!(
                    (state, action),
                    (ReturnState::LabelGenerated, ReturnAction::Complete)
                )
            }
            other => panic!("expected a 409, got {other:?}"),
        }
        match s
            .apply_return_action(&action(ReturnAction::Deny, without_return), at, None)
            .await
        {
            Err(StoreError::NoReturn(r)) => assert_eq!(r, without_return.id),
            other => panic!("expected NoReturn, got {other:?}"),
        }
    }

    // Everything the writes left behind is the same in both stores.
    assert_same_lists(&stores, at).await;
    assert_same_lists(&stores, at + Duration::days(2)).await;
    let outbox = assert_same_outbox(&stores).await;
    assert!(outbox.iter().any(|e| e.topic == "support.escalation"));
    assert!(outbox.iter().any(|e| e.topic == "erp.return"));
    for r in &records {
        assert_eq!(
            stores[0].timeline(SHOP, &r.id).await.unwrap(),
            stores[1].timeline(SHOP, &r.id).await.unwrap(),
            "{}",
            r.id
        );
    }
    let th = Thresholds::default();
    let newly = live[3..12]
        .iter()
        .find(|r| r.fulfillment_status != FulfillmentStatus::Fulfilled)
        .unwrap();
    let fulfilled = stores[0]
        .get_order(SHOP, &OrderRef::Id(newly.id.clone()), at, &th)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fulfilled.updated_at, at);
    assert_eq!(fulfilled.fulfillment_status, FulfillmentStatus::Fulfilled);
    assert!(fulfilled
        .shipments
        .iter()
        .any(|s| s.tracking.as_ref().is_some_and(|t| t.number == "1Z999")));
    assert!(!fulfilled.alerts.contains(&AlertKind::TrackingPending));

    // The tallies behind the counts followed every write, before and after a fold.
    assert_tallies_count_the_orders(&db).await;
    assert!(
        db.store.fold_tallies().await.unwrap() > 0,
        "the writes left changes to fold"
    );
    assert_eq!(
        db.store.fold_tallies().await.unwrap(),
        0,
        "a second fold finds none"
    );
    assert_tallies_count_the_orders(&db).await;
    assert_same_lists(&stores, at).await;
    db.drop_database().await;
}

#[tokio::test]
async fn concurrent_actions_on_one_return_apply_once() {
    let db = TestDb::new().await;
    let mut o = order(7001, Duration::hours(5));
    o.return_ = Some(ReturnRecord {
        id: "ret_7001".into(),
        state: ReturnState::Inspection,
        created_at: now() - Duration::hours(4),
        updated_at: now() - Duration::hours(4),
    });
    db.store.replace_orders(SHOP, &[o]).await.unwrap();
    let cmd = |action| ReturnCommand {
        shop_domain: SHOP.into(),
        order: OrderRef::Id("gid://shopify/Order/7001".into()),
        action,
        note: None,
    };
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = db.store.clone();
        let c = cmd(if i % 2 == 0 {
            ReturnAction::ApproveRefund
        } else {
            ReturnAction::Deny
        });
        tasks.push(tokio::spawn(async move {
            store.apply_return_action(&c, now(), None).await
        }));
    }
    let mut applied = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => applied += 1,
            Err(StoreError::Transition(_)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(applied, 1);
    let history = db
        .store
        .timeline(SHOP, "gid://shopify/Order/7001")
        .await
        .unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|e| e.event.starts_with("return."))
            .count(),
        1
    );
    assert_eq!(db.store.outbox(SHOP).await.unwrap().len(), 1);
    db.drop_database().await;
}

/// A read dropped at any point (its client went away) leaves its connection as it found it: the
/// next read and write on the same connection run in transactions of their own. A `BEGIN` dropped
/// before its answer came back used to leave the connection inside a read-only transaction the
/// pool did not know of, and every statement after an error on it failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_dropped_midway_leaves_its_connection_clean() {
    let db = TestDb::new().await;
    seeded(&db, &data_set(120, 11)).await;
    // One connection, so the next statements meet whatever the dropped read left on it.
    let pg = orders_sync::store::PgStore::connect_lazy_with(&db.url, 1).unwrap();
    let th = Thresholds::default();
    let q = ListQuery::for_shop(SHOP);
    let w = q.window();
    for i in 0..300u64 {
        let limit = std::time::Duration::from_micros((i * 37) % 3000);
        let _ = tokio::time::timeout(limit, pg.list_orders(&q, w, now(), &th)).await;
        // A savepoint exists only inside a transaction: outside one it is refused.
        let inside = sqlx::query("SAVEPOINT probe").execute(pg.pool()).await;
        assert!(
            inside.is_err(),
            "after a read dropped at {limit:?}, a statement ran inside an open transaction"
        );
    }
    pg.list_orders(&q, w, now(), &th).await.unwrap();
    db.drop_database().await;
}
