import { expect, test, type Page } from "@playwright/test";

// Live alerts on their own shop (seeded with 120 orders by scripts/test.sh), so no other test
// changes its counts. The server raised the shop's alerts on its start-up pass.
const SHOP = "e2e-live.myshopify.com";
const PENDING = '[data-banner="tracking_pending"]';

async function openLive(page: Page, query = "") {
  await page.goto(`/orders?shop=${SHOP}${query ? "&" + query : ""}`);
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
}

async function count(page: Page): Promise<number> {
  return Number(await page.locator(PENDING).getAttribute("data-count"));
}

test("a fulfill in one browser clears its alert in another, which reloads and keeps its selection", async ({ browser }) => {
  const a = await (await browser.newContext()).newPage();
  const b = await (await browser.newContext()).newPage();
  await openLive(a, "tab=tracking_pending&pageSize=25");
  await openLive(b, "tab=tracking_pending&pageSize=25");
  await expect(b.getByTestId("freshness")).toHaveAttribute("data-link", "live");
  await expect(b.locator(PENDING)).toBeVisible();
  await expect(b.locator(PENDING)).toContainText("waiting for a tracking number");
  const before = await count(b);
  expect(before).toBeGreaterThan(1);
  await expect(a.locator(PENDING)).toHaveAttribute("data-count", String(before));

  // B selects its last row; A fulfills its first one with tracking.
  const bRows = b.locator("tbody tr[data-order-id]");
  const kept = await bRows.last().getAttribute("data-order-id");
  await bRows.last().getByRole("checkbox").check();
  const aFirst = a.locator("tbody tr[data-order-id]").first();
  const gone = await aFirst.getAttribute("data-order-id");
  expect(gone).not.toBe(kept);
  await aFirst.getByRole("checkbox").check();
  const bar = a.getByTestId("bulk-bar");
  await bar.getByTestId("bulk-fulfill").click();
  await bar.getByLabel("Tracking number (optional)").fill("1ZLIVE0001");
  await bar.getByLabel("Carrier").fill("UPS");
  await bar.getByRole("button", { name: "Mark fulfilled" }).click();

  // B hears it: one alert fewer, the order gone from its tab after the refresh, its selection kept.
  await expect(b.locator(PENDING)).toHaveAttribute("data-count", String(before - 1));
  await expect(b.locator(`tbody tr[data-order-id="${gone}"]`)).toHaveCount(0);
  await expect(b.locator(`tbody tr[data-order-id="${kept}"]`).getByRole("checkbox")).toBeChecked();
  await expect(b.getByTestId("freshness")).toContainText("last synced");
});

test("a banner opens to name its orders, each opening the drawer, links to its tab, and stays dismissed until its count changes", async ({ page }) => {
  await openLive(page);
  const banner = page.locator(PENDING);
  await expect(banner).toBeVisible();
  // Collapsed as it comes: one line, its orders one click away.
  const named = banner.getByTestId("banner-order");
  await expect(named.first()).toBeHidden();
  await banner.locator("summary").click();
  await expect(named).toHaveCount(Math.min(5, await count(page)));
  const first = named.first();
  const number = (await first.textContent())!.trim();
  await first.click();
  await expect(page.getByTestId("order-drawer").getByRole("heading", { name: `Order ${number}` })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("order-drawer")).toHaveCount(0);

  // The page may reload under the click (a live refresh): open and follow until it holds.
  await expect(async () => {
    const details = page.locator(PENDING).locator("details");
    if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await details.locator("summary").click();
    await page.locator(PENDING).getByTestId("banner-view").click({ timeout: 2_000 });
  }).toPass();
  await expect(page).toHaveURL(/tab=tracking_pending/);
  await expect(page.locator('a[data-tab="tracking_pending"]')).toHaveAttribute("aria-current", "page");
  await page.locator(PENDING).getByRole("button", { name: /Dismiss/ }).click();
  await expect(page.locator(PENDING)).toBeHidden();
});

test("with the stream blocked, banners still arrive by polling", async ({ page }) => {
  let blocked = 0;
  await page.route("**/sync/orders/alerts**", async (route) => {
    if ((route.request().headers()["accept"] ?? "").includes("text/event-stream")) {
      blocked += 1;
      await route.abort();
    } else {
      await route.continue();
    }
  });
  await openLive(page);
  await expect(page.getByTestId("freshness")).toHaveAttribute("data-link", "polling");
  await expect(page.locator(PENDING)).toBeVisible();
  expect(await count(page)).toBeGreaterThan(0);
  expect(blocked).toBeGreaterThan(0);
});
