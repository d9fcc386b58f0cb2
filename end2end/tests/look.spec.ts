import { expect, test, type Page } from "@playwright/test";

// The look (Polaris tokens, Inter), pinned by screenshots of the main views at a desktop and a
// phone width, compared with the baselines in end2end/__screenshots__/look.spec.ts. After a
// deliberate change of look, run this file with `--update-snapshots` and review the new images.
//
// The e2e data is seeded relative to now, so everything but the times is the same on every run.
// Every time (dates, ages, the freshness line, shipment updates) is masked by a stylesheet the test
// adds: a blank box of one width in the mask colour, so neither its text nor the text's length
// moves a pixel. (Playwright's own `mask` option paints over an element's box even where a
// scrolling table clips it or the drawer covers it, which hides what lies on top.) Read-only, on
// the e2e shop no other test writes to.
const SHOP = "e2e.myshopify.com";

const SIZES = [
  { name: "desktop", width: 1440, height: 900 },
  { name: "phone", width: 390, height: 844 },
];

const MASK_TIMES = `
  time, td:has(> time) > span, [data-shipment] > span:last-child, [data-testid="gap-when"],
  [data-testid="freshness"] {
    display: inline-block; width: 6rem; height: 1lh; overflow: hidden; vertical-align: top;
    color: transparent !important; background: #f0f;
  }
  td:has(> time) > span { width: 2.5rem; }
  [data-testid="freshness"] { width: 16rem; }
`;

async function open(page: Page, query: string) {
  await page.goto(`/orders?shop=${SHOP}${query}`);
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  // Inter comes from the site itself (npm @fontsource-variable/inter, copied to /fonts).
  const inter = await page.evaluate(async () => {
    await document.fonts.ready;
    return [...document.fonts].filter((f) => f.family.replace(/"/g, "") === "Inter" && f.status === "loaded").length;
  });
  expect(inter, "Inter is loaded from /fonts").toBeGreaterThan(0);
}

async function looksLike(page: Page, name: string, fullPage = true) {
  await page.addStyleTag({ content: MASK_TIMES });
  await expect(page).toHaveScreenshot(`${name}.png`, { fullPage });
}

for (const size of SIZES) {
  test.describe(`at ${size.width}×${size.height}`, () => {
    test.use({ viewport: { width: size.width, height: size.height } });

    test(`the orders view looks as it did (${size.name})`, async ({ page }) => {
      await open(page, "");
      await looksLike(page, `orders-${size.name}`);
    });

    test(`the returns tab looks as it did (${size.name})`, async ({ page }) => {
      await open(page, "&tab=returns&pageSize=25");
      await looksLike(page, `returns-${size.name}`);
    });

    test(`a filtered view looks as it did (${size.name})`, async ({ page }) => {
      await open(page, "&priority=urgent&priority=high&status=unfulfilled");
      await looksLike(page, `filtered-${size.name}`);
    });

    test(`the order drawer looks as it did (${size.name})`, async ({ page, request }) => {
      const list = await (await request.get(`/sync/orders?shop_domain=${SHOP}&tab=returns&pageSize=1`)).json();
      await open(page, `&tab=returns&pageSize=25&order=${encodeURIComponent(list.orders[0].id)}`);
      await expect(page.getByTestId("order-drawer")).toBeVisible();
      await looksLike(page, `drawer-${size.name}`, false);
    });

    test(`opened banners and a bulk form look as they did (${size.name})`, async ({ page }) => {
      await open(page, "&pageSize=25");
      const banners = page.locator("[data-banner] details");
      expect(await banners.count()).toBeGreaterThan(0);
      for (const details of await banners.all()) await details.locator("summary").click();
      await page.locator("tbody tr[data-order-id]").first().getByRole("checkbox").check();
      await page.getByTestId("bulk-escalate").click();
      const form = page.getByRole("form", { name: "Escalate selected" });
      await expect(form).toBeVisible();
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(wide, "an open form keeps the page within the screen").toBeLessThanOrEqual(size.width);
      await looksLike(page, `opened-${size.name}`);
    });

    test(`the key list looks as it did (${size.name})`, async ({ page }) => {
      await open(page, "");
      await page.locator("body").click({ position: { x: 5, y: 5 } });
      await page.keyboard.press("?");
      await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeVisible();
      await looksLike(page, `keys-${size.name}`, false);
    });
  });
}
