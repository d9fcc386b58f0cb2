import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { expect, test } from "@playwright/test";

// The sample-data fallback, for real: a second server reaches PostgreSQL through a TCP plug the
// test pulls out and puts back, with no restart of the server in between.
const SHOP = "e2e.myshopify.com";
const ROOT = path.resolve(__dirname, "../..");

class Plug {
  private server?: net.Server;
  private sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async connect(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async pull(): Promise<void> {
    const closed = new Promise((resolve) => this.server?.close(resolve));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

let plug: Plug;
let server: ChildProcess;
let origin: string;

test.beforeAll(async () => {
  const database = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/orders_sync");
  plug = new Plug({ host: database.hostname, port: Number(database.port || 5432) });
  await plug.connect();
  database.hostname = "127.0.0.1";
  database.port = String(plug.port);
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  server = spawn(path.join(ROOT, "target/release/orders-sync"), ["serve"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: database.toString(), LEPTOS_SITE_ADDR: `127.0.0.1:${port}`, RUST_LOG: "error" },
    stdio: "ignore",
  });
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${origin}/healthz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("the second server did not start");
});

test.afterAll(async () => {
  server?.kill();
  await plug?.pull();
});

test("without the database the page shows sample data under a banner, and live data again when it is back", async ({ page }) => {
  test.setTimeout(60_000);
  await page.goto(`${origin}/orders?shop=${SHOP}`);
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("sample-banner")).toHaveCount(0);
  await expect(page.getByTestId("shop")).toHaveText(SHOP);

  await plug.pull();
  await page.reload();
  const banner = page.getByTestId("sample-banner");
  await expect(banner).toBeVisible({ timeout: 15_000 });
  await expect(banner).toContainText("Sample data");
  await expect(page.locator("tbody tr[data-order-id]").first()).toBeVisible();
  await expect(page.getByTestId("shop")).not.toHaveText(SHOP);
  expect((await fetch(`${origin}/readyz`)).status).toBe(503);
  // Sample data is never exported as if it were the shop's; the export URL says why.
  await expect(page.getByTestId("export-csv")).toHaveCount(0);
  await expect(page.getByTestId("export-csv-off")).toBeVisible();
  expect((await fetch(`${origin}/orders/export.csv?shop=${SHOP}`)).status).toBe(503);

  // A write on sample data is refused, not pretended.
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  await page.locator("tbody tr[data-order-id]").first().getByRole("checkbox").check();
  await page.getByTestId("bulk-assign").click();
  await page.getByTestId("bulk-bar").getByRole("button", { name: "Unassign" }).click();
  // Refused after one connection timeout (3 s) at most; the margin is for a loaded machine.
  await expect(page.getByTestId("toasts-failure")).toContainText("503", { timeout: 15_000 });

  // Plugged back in: the same page, without a reload, returns to the shop's live data.
  await plug.connect();
  await expect(banner).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByTestId("shop")).toHaveText(SHOP);
  await expect(page.getByTestId("export-csv")).toBeVisible();
});
