import { expect, test } from "@playwright/test";

// The pictures above the table and the CSV export, on the e2e shop (300 orders, seeded by
// scripts/test.sh). Each is checked against the numbers the page itself shows.
const SHOP = "e2e.myshopify.com";

/** RFC 4180 records of a CSV document. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [""];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        record[record.length - 1] += '"';
        i++;
      } else if (c === '"') quoted = false;
      else record[record.length - 1] += c;
    } else if (c === ",") record.push("");
    else if (c === '"') quoted = true;
    else if (c === "\r" && text[i + 1] === "\n") {
      records.push(record);
      record = [""];
      i++;
    } else record[record.length - 1] += c;
  }
  return records;
}

test("the returns funnel and the sparkline count the orders of the view", async ({ page }) => {
  await page.goto(`/orders?shop=${SHOP}&tab=returns`);
  // The pictures are one click away, behind a summary that opens and closes.
  const pictures = page.getByTestId("pictures");
  const funnel = page.getByTestId("returns-funnel");
  await expect(funnel).toBeHidden();
  await pictures.locator("summary").click();
  await expect(funnel).toBeVisible();
  // One bar per return state, each with its number as text.
  const bars = funnel.locator("g[data-state]");
  await expect(bars).toHaveCount(8);
  const counts = await funnel.locator("[data-count]").allTextContents();
  const open = ["awaiting_label", "label_generated", "in_transit", "inspection", "awaiting_refund"];
  let openSum = 0;
  for (const state of open) {
    openSum += Number(await funnel.locator(`g[data-state="${state}"] [data-count]`).textContent());
  }
  const returnsTab = Number(
    await page.locator('a[data-tab="returns"] [data-testid=tab-count]').textContent(),
  );
  expect(counts.length).toBe(8);
  expect(openSum).toBe(returnsTab);
  expect(returnsTab).toBeGreaterThan(0);

  const spark = page.getByTestId("orders-sparkline");
  await expect(spark).toBeVisible();
  await expect(spark.getByRole("img")).toHaveAttribute("aria-label", /Orders per day over the last 30 days/);
  await page.screenshot({ path: test.info().outputPath("pictures.png"), fullPage: false });
});

test("the export button downloads every page of the filtered view as CSV", async ({ page }) => {
  await page.goto(`/orders?shop=${SHOP}&tab=unfulfilled&pageSize=25`);
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  const expected = Number(
    await page.locator('a[data-tab="unfulfilled"] [data-testid=tab-count]').textContent(),
  );
  expect(expected).toBeGreaterThan(25);

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("export-csv").click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^orders-e2e-myshopify-com-unfulfilled-\d{8}\.csv$/);
  const path = await download.path();
  const fs = await import("node:fs/promises");
  const records = parseCsv(await fs.readFile(path!, "utf8"));
  expect(records[0][0]).toBe("order_number");
  expect(records.length - 1).toBe(expected);
  const statusColumn = records[0].indexOf("status");
  for (const r of records.slice(1)) {
    expect(["unfulfilled", "partially_fulfilled"]).toContain(r[statusColumn]);
  }
});

test("the export URL works without the page: a filter narrows it, a bad value is a 400", async ({ request }) => {
  const all = await request.get(`/orders/export.csv?shop=${SHOP}`);
  expect(all.status()).toBe(200);
  expect(all.headers()["content-type"]).toBe("text/csv; charset=utf-8");
  expect(parseCsv(await all.text()).length - 1).toBe(300);

  const high = await request.get(`/orders/export.csv?shop=${SHOP}&priority=high`);
  const rows = parseCsv(await high.text()).slice(1);
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.length).toBeLessThan(300);
  for (const r of rows) expect(r[9]).toBe("high");

  const bad = await request.get(`/orders/export.csv?shop=${SHOP}&tab=archived`);
  expect(bad.status()).toBe(400);
  const body = await bad.json();
  expect(body.success).toBe(false);
  expect(body.message).toContain("tab");
});
