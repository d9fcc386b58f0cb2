import { expect, test } from "@playwright/test";

// The e2e shop is seeded with 300 orders by scripts/test.sh; the server runs without Shopify
// credentials, so the development sign-in is open.
const SHOP = "e2e.myshopify.com";

test("the development sign-in opens a session, and 'mine' shows the staff member's orders", async ({
  page,
  request,
}) => {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("console", (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });

  await page.goto("/auth/dev");
  await page.getByLabel("Shop").fill(SHOP);
  await page.getByLabel("Your name").fill("sam");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`/orders\\?shop=${SHOP}`));
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator('#assignee-choices option[value="mine"]')).toHaveCount(1);

  // What the API counts as sam's, the page shows as "mine".
  const api = await request.get(`/sync/orders?shop_domain=${SHOP}&assigned_to=sam&pageSize=250`);
  expect(api.status()).toBe(200);
  const sams = (await api.json()).counts.all as number;
  expect(sams).toBeGreaterThan(0);

  await page.goto("/orders?assigned_to=mine&pageSize=250");
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
  const rows = page.locator("[data-testid=orders-table] tbody tr[data-order-id]");
  await expect(rows).toHaveCount(sams);
  await expect(page.locator("[data-testid=orders-table] tbody [data-assignee]")).toHaveCount(sams);
  for (const who of await page.locator("[data-testid=orders-table] tbody [data-assignee]").allTextContents()) {
    expect(who).toBe("sam");
  }
  // Signed in to one shop, another shop's dashboard is refused.
  const other = await page.goto("/orders?shop=e2e-actions.myshopify.com");
  expect(other?.status()).toBe(403);
  expect(problems).toEqual([]);
});

test("a page sends a Content-Security-Policy whose nonce its inline scripts carry", async ({ request }) => {
  const res = await request.get(`/orders?shop=${SHOP}`);
  const csp = res.headers()["content-security-policy"];
  // Framed by the admin and the page's own shop only (SPEC §10): no wildcard.
  expect(csp).toContain(`frame-ancestors https://${SHOP} https://admin.shopify.com`);
  expect(csp).not.toContain("*");
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  expect(nonce).toBeTruthy();
  const html = await res.text();
  const scripts = html.match(/<script[^>]*>/g) ?? [];
  expect(scripts.length).toBeGreaterThan(0);
  for (const s of scripts) expect(s).toContain(`nonce="${nonce}"`);
});
