import { createRequire } from "node:module";
import { expect, type Page, test } from "@playwright/test";

// An axe-core scan of the main views (no serious or critical violations), and a screenshot of
// each kept with the test's artifacts (end2end/test-results).
const SHOP = "e2e.myshopify.com";
const AXE = createRequire(__filename).resolve("axe-core/axe.min.js");

// The page's Content-Security-Policy rightly refuses an injected script: the scan is a test tool,
// so these tests let the browser bypass the policy (the policy itself is tested in signin.spec.ts).
test.use({ bypassCSP: true });

type Violation = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] };

async function scan(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations: Violation[] = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (o?: object) => Promise<{ violations: Violation[] }> } }).axe;
    return (await axe.run({ resultTypes: ["violations"] })).violations;
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact}: ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
}

const VIEWS: [string, string][] = [
  ["orders", `/orders?shop=${SHOP}`],
  ["returns-tab", `/orders?shop=${SHOP}&tab=returns&pageSize=25`],
  ["filtered", `/orders?shop=${SHOP}&priority=urgent&priority=high&status=unfulfilled`],
];

for (const [name, url] of VIEWS) {
  test(`the ${name} view has no serious accessibility violations`, async ({ page }, info) => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(url);
    await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
    await page.screenshot({ path: info.outputPath(`${name}.png`), fullPage: true });
    expect(await scan(page)).toEqual([]);
  });
}

test("the order drawer has no serious accessibility violations", async ({ page, request }, info) => {
  const list = await (await request.get(`/sync/orders?shop_domain=${SHOP}&tab=returns&pageSize=1`)).json();
  await page.goto(`/orders?shop=${SHOP}&tab=returns&order=${encodeURIComponent(list.orders[0].id)}`);
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("order-drawer")).toBeVisible();
  await page.screenshot({ path: info.outputPath("drawer.png"), fullPage: true });
  expect(await scan(page)).toEqual([]);
});

test("on a narrow screen the table scrolls inside the page and the controls stay reachable", async ({ page }, info) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`/orders?shop=${SHOP}`);
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  await page.screenshot({ path: info.outputPath("narrow.png"), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await expect(page.getByRole("button", { name: "Apply" })).toBeVisible();
  expect(await scan(page)).toEqual([]);
});

test("opened banners, charts, bulk forms and the key list have no serious accessibility violations", async ({ page }, info) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`/orders?shop=e2e-live.myshopify.com`);
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  for (const summary of await page.locator('[data-banner] summary').all()) await summary.click();
  await page.locator("tbody tr[data-order-id]").first().getByRole("checkbox").check();
  await page.getByTestId("bulk-escalate").click();
  await page.getByTestId("pictures").locator("summary").click();
  await page.screenshot({ path: info.outputPath("opened.png"), fullPage: true });
  expect(await scan(page)).toEqual([]);

  await page.locator("body").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("?");
  await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeVisible();
  await page.screenshot({ path: info.outputPath("keys.png") });
  expect(await scan(page)).toEqual([]);
});
