import { expect, test } from "@playwright/test";

// The e2e shop is seeded with 300 orders by scripts/test.sh before the tests run.
const SHOP = "e2e.myshopify.com";

test("the orders page is rendered on the server with rows and tab badges", async ({ request }) => {
  const res = await request.get(`/orders?shop=${SHOP}`, { headers: { Accept: "text/html" } });
  expect(res.status()).toBe(200);
  const html = await res.text();
  // Rows and badges are in the HTML itself, before any WASM runs.
  expect((html.match(/data-order-id=/g) ?? []).length).toBe(50);
  expect(html).toContain('data-tab="all" aria-current="page"');
  expect(html).not.toContain('data-testid="sample-banner"');
});

test("the orders page hydrates and shows the table, the tabs and their counts", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`/orders?shop=${SHOP}`);

  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByRole("heading", { name: "Orders" })).toBeVisible();
  await expect(page.getByTestId("shop")).toHaveText(SHOP);

  const rows = page.locator("[data-testid=orders-table] tbody tr[data-order-id]");
  await expect(rows).toHaveCount(50);

  const tabs = page.getByRole("navigation", { name: "Order views" }).getByRole("link");
  await expect(tabs).toHaveCount(6);
  await expect(page.locator('a[data-tab="all"] [data-testid=tab-count]')).toHaveText("300");
  await expect(page.locator('a[data-tab="all"]')).toHaveAttribute("aria-current", "page");
  await expect(page.getByTestId("page-range")).toHaveText("1–50 of 300");
  await expect(page.getByTestId("sample-banner")).toHaveCount(0);
  expect(errors).toEqual([]);
});

test("a shared link opens the returns tab with 25 rows a page", async ({ page }) => {
  await page.goto(`/orders?shop=${SHOP}&tab=returns&pageSize=25`);
  const returns = page.locator('a[data-tab="returns"]');
  await expect(returns).toHaveAttribute("aria-current", "page");
  await expect(page.locator('a[data-tab="all"]')).not.toHaveAttribute("aria-current", "page");
  const count = Number(await returns.getByTestId("tab-count").textContent());
  expect(count).toBeGreaterThan(0);
  const rows = page.locator("[data-testid=orders-table] tbody tr[data-order-id]");
  await expect(rows).toHaveCount(Math.min(count, 25));
});

test("the next-page link shows the following rows and the previous link comes back", async ({ page }) => {
  await page.goto(`/orders?shop=${SHOP}&pageSize=25`);
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  const firstRow = page.locator("tbody tr[data-order-id]").first();
  const firstId = await firstRow.getAttribute("data-order-id");
  // Once hydrated, the router navigates in place and loads the page through a server function.
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));

  await page.getByRole("link", { name: "Next" }).click();
  await expect(page).toHaveURL(/cursor=ofs%3Ap/);
  await expect(page.getByTestId("page-range")).toHaveText("26–50 of 300");
  await expect(firstRow).not.toHaveAttribute("data-order-id", firstId!);

  await page.getByRole("link", { name: "Previous" }).click();
  await expect(page.getByTestId("page-range")).toHaveText("1–25 of 300");
  await expect(firstRow).toHaveAttribute("data-order-id", firstId!);
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
});

test("the next-page link works without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`/orders?shop=${SHOP}&tab=all&pageSize=100`);
  await expect(page.getByTestId("page-range")).toHaveText("1–100 of 300");
  await page.getByRole("link", { name: "Next" }).click();
  await expect(page.getByTestId("page-range")).toHaveText("101–200 of 300");
  await context.close();
});

test("the filter bar narrows the view, keeps the tab, and the URL holds it across a reload", async ({ page }) => {
  await page.goto(`/orders?shop=${SHOP}&tab=unfulfilled`);
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  const before = Number(await page.locator('a[data-tab="unfulfilled"] [data-testid=tab-count]').textContent());

  const filters = page.getByTestId("filters");
  await filters.locator("[data-filter=priority] summary").click();
  await filters.getByLabel("Urgent").check();
  await filters.getByLabel("Page size").selectOption("25");
  await filters.getByRole("button", { name: "Apply" }).click();

  await expect(page).toHaveURL(/priority=urgent/);
  await expect(page).toHaveURL(/tab=unfulfilled/);
  await expect(page).toHaveURL(/pageSize=25/);
  const rows = page.locator("tbody tr[data-order-id]");
  await expect(rows.first()).toBeVisible();
  const after = Number(await page.locator('a[data-tab="unfulfilled"] [data-testid=tab-count]').textContent());
  expect(after).toBeGreaterThan(0);
  expect(after).toBeLessThan(before);
  await expect(page.locator("tbody [data-priority]:not([data-priority=urgent])")).toHaveCount(0);
  expect(await rows.count()).toBe(Math.min(after, 25));

  await page.reload();
  await expect(page.locator("tbody [data-priority]:not([data-priority=urgent])")).toHaveCount(0);
  await expect(page.locator('a[data-tab="unfulfilled"]')).toHaveAttribute("aria-current", "page");

  await page.getByTestId("clear-filters").click();
  await expect(page).not.toHaveURL(/priority=/);
  await expect(page.locator('a[data-tab="unfulfilled"] [data-testid=tab-count]')).toHaveText(String(before));
});

test("the unassigned filter shows only orders without an owner", async ({ page }) => {
  await page.goto(`/orders?shop=${SHOP}&assigned_to=unassigned`);
  await expect(page.locator("tbody tr[data-order-id]").first()).toBeVisible();
  await expect(page.getByTestId("filters").getByLabel("Assignee")).toHaveValue("unassigned");
  // Every assignee cell is the dash.
  const cells = page.locator("tbody tr[data-order-id] [data-assignee]");
  await expect(cells).toHaveCount(0);
});
