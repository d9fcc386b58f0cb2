//! The database stopped under load, and back: the API answers 503 with `Retry-After` (never a 500,
//! never a hang), the dashboard shows the sample data under its banner, and both return to the live
//! data by themselves when the database is back, without a restart.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orders_sync::service::Service;
use orders_sync::startup::{sample_store, Application};
use orders_sync::store::{PgStore, Store};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::*;

/// A TCP proxy in front of PostgreSQL that can be cut (every connection dropped, nothing
/// listening) and restored on the same port: the database stopping and starting, as clients see it.
struct Switch {
    port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Switch {
    async fn new() -> Switch {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let switch = Switch {
            port,
            tasks: Arc::default(),
        };
        switch.serve(listener);
        switch
    }

    fn serve(&self, listener: TcpListener) {
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut db) = TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut db).await;
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    async fn restore(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(e) => {
                    assert!(Instant::now() < deadline, "rebind: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        self.serve(listener);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_stopped_under_load_gives_503_and_sample_data_then_both_recover() {
    let direct = fresh_database_url().await;
    let switch = Switch::new().await;
    let proxied = direct.replace("127.0.0.1:5432", &format!("127.0.0.1:{}", switch.port));
    assert_ne!(proxied, direct, "{direct}");
    let store = PgStore::connect_lazy(&proxied).unwrap();
    let store = Store::Postgres(store);
    store
        .replace_orders(SHOP, &[order(5001).build(), order(5002).build()])
        .await
        .unwrap();
    let mut settings = test_settings();
    settings.trust.dashboard_shop = Some(SHOP.into());
    let service = Service::new(
        store.clone(),
        Some(sample_store(&settings)),
        SHOP.into(),
        settings.thresholds(),
    );
    let app = Application::build(&settings, service.clone(), leptos_options())
        .await
        .unwrap();
    let address = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    let app = TestApp {
        address,
        client: reqwest::Client::new(),
        store,
        service,
    };
    let banner = |html: &str| html.contains("data-testid=\"sample-banner\"");
    let page = || async {
        let r = app
            .client
            .get(format!("{}/orders?shop={SHOP}", app.address))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };

    // Live.
    app.list_shop(SHOP, &[]).await.assert_ok();
    let (status, html) = page().await;
    assert_eq!(status, 200);
    assert!(!banner(&html));

    // Under load, the database stops.
    let load = {
        let client = app.client.clone();
        let url = format!("{}/sync/orders?shop_domain={SHOP}", app.address);
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let until = Instant::now() + Duration::from_secs(4);
            while Instant::now() < until {
                let started = Instant::now();
                let r = client.get(&url).send().await.unwrap();
                let retry_after = r.headers().contains_key("retry-after");
                seen.push((r.status().as_u16(), retry_after, started.elapsed()));
            }
            seen
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    switch.cut();
    let seen = load.await.unwrap();
    assert!(
        seen.iter().all(|(s, _, _)| *s == 200 || *s == 503),
        "{seen:?}"
    );
    let outage: Vec<_> = seen.iter().filter(|(s, _, _)| *s == 503).collect();
    assert!(!outage.is_empty(), "the outage was seen");
    assert!(
        outage.iter().all(|(_, retry, _)| *retry),
        "503s say Retry-After"
    );
    assert!(
        seen.iter()
            .all(|(_, _, took)| *took < Duration::from_secs(5)),
        "no request hangs"
    );
    app.assign(&["5001"], Some("sam"))
        .await
        .assert_failure(503, &["unavailable"]);
    let (status, html) = page().await;
    assert_eq!(status, 200);
    assert!(
        banner(&html),
        "the dashboard shows sample data under its banner"
    );
    assert!(
        html.contains("The database is unavailable") && !html.contains("USE_MOCK_DATA"),
        "the banner says why: the database is away"
    );

    // The database is back: both return by themselves.
    switch.restore().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = app.list_shop(SHOP, &[]).await;
        if r.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the API recovers: {}", r.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.assign(&["5001"], Some("sam")).await.assert_ok();
    loop {
        let (status, html) = page().await;
        if status == 200 && !banner(&html) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the dashboard returns to live data"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Under `USE_MOCK_DATA` the sample data is the server's choice: its banner says so, and does not
/// claim that the database is away or that changes cannot be saved (the sample store keeps them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_data_by_choice_says_so() {
    let settings = test_settings();
    let shop = settings.sample_shop();
    let app = spawn_on(Store::Memory(sample_store(&settings))).await;
    let html = app
        .client
        .get(format!("{}/orders?shop={shop}", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-testid=\"sample-banner\""), "{html}");
    assert!(html.contains("USE_MOCK_DATA"));
    assert!(!html.contains("The database is unavailable"));
    assert!(!html.contains("cannot be saved"));
}
