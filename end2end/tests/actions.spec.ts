import { expect, type Page, type APIRequestContext, test } from "@playwright/test";

// The actions change data, so they run one after another on a shop of their own
// (scripts/test.sh seeds it), leaving the read-only tests' shop untouched.
const SHOP = "e2e-actions.myshopify.com";
test.describe.configure({ mode: "serial" });

async function open(page: Page, query: string): Promise<void> {
  await page.goto(`/orders?shop=${SHOP}&${query}`);
  await expect(page.locator("#app")).toHaveAttribute("data-hydrated", "true");
}

async function order(request: APIRequestContext, id: string): Promise<Record<string, any>> {
  const res = await request.get(`/sync/orders/${encodeURIComponent(id)}?shop_domain=${SHOP}`);
  expect(res.status()).toBe(200);
  return res.json();
}

test("bulk assign: the selected rows are assigned and Sync confirms", async ({ page, request }) => {
  await open(page, "assigned_to=unassigned&pageSize=25");
  const rows = page.locator("tbody tr[data-order-id]");
  const ids = [await rows.nth(0).getAttribute("data-order-id"), await rows.nth(1).getAttribute("data-order-id")];
  await rows.nth(0).getByRole("checkbox").check();
  await rows.nth(1).getByRole("checkbox").check();
  await expect(page.getByTestId("selection-count")).toHaveText("2 orders selected on this page");

  const bar = page.getByTestId("bulk-bar");
  await bar.getByLabel("Assign to").fill("Robin Ops");
  await bar.getByRole("button", { name: "Assign", exact: true }).click();
  await expect(page.getByTestId("toasts-success")).toContainText("Assigned 2 orders to Robin Ops");
  for (const id of ids) expect((await order(request, id!)).assignedTo).toBe("Robin Ops");
  // The view reloads: they are no longer unassigned, and the selection is gone.
  await expect(page.locator(`tbody tr[data-order-id="${ids[0]}"]`)).toHaveCount(0);
  await expect(page.getByTestId("selection-count")).toContainText("Select orders");
});

test("bulk fulfill with tracking marks the orders fulfilled with a shipment", async ({ page, request }) => {
  await open(page, "status=unfulfilled&pageSize=25");
  const rows = page.locator("tbody tr[data-order-id]");
  const ids = [await rows.nth(0).getAttribute("data-order-id"), await rows.nth(1).getAttribute("data-order-id")];
  await rows.nth(0).getByRole("checkbox").check();
  await rows.nth(1).getByRole("checkbox").check();
  const bar = page.getByTestId("bulk-bar");
  await bar.getByLabel("Tracking number (optional)").fill("1ZE2E0001");
  await bar.getByLabel("Carrier").fill("UPS");
  await bar.getByRole("button", { name: "Mark fulfilled" }).click();
  await expect(page.getByTestId("toasts-success")).toContainText("Marked 2 orders as fulfilled with tracking 1ZE2E0001 (UPS)");
  for (const id of ids) {
    const o = await order(request, id!);
    expect(o.status).toBe("fulfilled");
    expect(o.shipments.some((s: any) => s.tracking?.number === "1ZE2E0001" && s.tracking?.carrier === "UPS")).toBe(true);
  }
});

test("a refused action is rolled back and its toast quotes Sync's status and message", async ({ page, request }) => {
  await open(page, "status=cancelled&pageSize=25");
  const row = page.locator("tbody tr[data-order-id]").first();
  const id = (await row.getAttribute("data-order-id"))!;
  await row.getByRole("checkbox").check();
  await page.getByTestId("bulk-bar").getByRole("button", { name: "Mark fulfilled" }).click();
  const failure = page.getByTestId("toasts-failure");
  await expect(failure).toContainText("409 · cancelled orders cannot be fulfilled");
  await expect(page.locator(`tbody tr[data-order-id="${id}"] [data-status]`)).toHaveAttribute("data-status", "cancelled");
  expect((await order(request, id)).status).toBe("cancelled");
});

test("the drawer offers only the return's legal actions and approving a refund moves it on", async ({ page, request }) => {
  const res = await request.get(`/sync/orders?shop_domain=${SHOP}&tab=returns&pageSize=250`);
  const inspected = (await res.json()).orders.find((o: any) => o.return?.state === "inspection");
  expect(inspected, "the seed has a return under inspection").toBeTruthy();

  await open(page, `tab=returns&order=${encodeURIComponent(inspected.id)}`);
  const drawer = page.getByTestId("order-drawer");
  await expect(drawer.getByRole("heading", { name: `Order ${inspected.orderNumber}` })).toBeVisible();
  const panel = drawer.getByTestId("return-panel");
  await expect(panel.getByTestId("return-state")).toHaveAttribute("data-state", "inspection");
  await expect(panel.getByRole("button", { name: "Request inspection" })).toHaveCount(0);
  await expect(panel.getByRole("button", { name: "Deny" })).toBeVisible();

  await panel.getByLabel("Note (optional)").fill("Item checked, as new");
  await panel.getByRole("button", { name: "Approve refund" }).click();
  await expect(page.getByTestId("toasts-success")).toContainText("Return updated");
  await expect(panel.getByTestId("return-state")).toHaveAttribute("data-state", "awaiting_refund");
  // awaiting_refund: nothing for a person to decide.
  await expect(panel.getByRole("button")).toHaveCount(0);
  expect((await order(request, inspected.id)).return.state).toBe("awaiting_refund");
});

test("a support escalation from the drawer opens a thread", async ({ page, request }) => {
  const candidates = await request.get(`/sync/orders?shop_domain=${SHOP}&pageSize=250`);
  const free = (await candidates.json()).orders.find((o: any) => o.supportThread === null);
  await open(page, `order=${encodeURIComponent(free.id)}`);
  const drawer = page.getByTestId("order-drawer");
  await expect(drawer.getByTestId("drawer-support-thread")).toHaveText("Not escalated");
  const form = drawer.getByTestId("support-form");
  await form.getByLabel("Conversation id (optional)").fill("conv_e2e_1");
  await form.getByLabel("Note for support").fill("Customer asks for a new delivery date");
  await form.getByRole("button", { name: "Escalate to support" }).click();
  await expect(page.getByTestId("toasts-success")).toContainText("Support requested");
  await expect(drawer.getByTestId("drawer-support-thread")).toHaveText("Escalated · thread conv_e2e_1");
  const after = await order(request, free.id);
  expect(after.supportThread).toBe("conv_e2e_1");
  expect(after.assignedTo).toBe("assistant");
});

test("Escape closes the drawer and keeps the list as it was", async ({ page }) => {
  await open(page, "tab=unfulfilled&pageSize=25");
  await page.getByTestId("order-link").first().click();
  await expect(page).toHaveURL(/order=/);
  const drawer = page.getByTestId("order-drawer");
  await expect(drawer).toBeVisible();
  await expect(drawer.getByRole("heading", { level: 2 })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(drawer).toHaveCount(0);
  await expect(page).not.toHaveURL(/order=/);
  await expect(page).toHaveURL(/tab=unfulfilled/);
  await expect(page).toHaveURL(/pageSize=25/);
});
