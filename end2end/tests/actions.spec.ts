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
  await bar.getByTestId("bulk-assign").click();
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
  await bar.getByTestId("bulk-fulfill").click();
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

test("bulk escalation puts the selected orders in one conversation; a failed one rolls back and the toast names it", async ({ page, request }) => {
  await open(page, "tab=unfulfilled&pageSize=25");
  const rows = page.locator("tbody tr[data-order-id]");
  const picked: { id: string; number: string }[] = [];
  for (let i = 0; picked.length < 3 && i < 25; i++) {
    const row = rows.nth(i);
    if ((await row.getByText("Support", { exact: true }).count()) > 0) continue;
    picked.push({
      id: (await row.getAttribute("data-order-id"))!,
      number: (await row.getByTestId("order-link").textContent())!.trim(),
    });
    await row.getByRole("checkbox").check();
  }
  expect(picked.length).toBe(3);
  // The second order's write never reaches the server: a network failure for that order only.
  let writes = 0;
  await page.route("**/api/**", async (route) => {
    const body = route.request().postData() ?? "";
    if (body.includes("Support")) {
      writes += 1;
      if (body.includes(`"${picked[1].id}"`)) {
        await route.abort();
        return;
      }
    }
    await route.continue();
  });
  const bar = page.getByTestId("bulk-bar");
  await bar.getByTestId("bulk-escalate").click();
  await bar.getByLabel("Note for support").fill("Customers ask where their parcels are");
  await bar.getByRole("button", { name: "Escalate to support" }).click();
  const failure = page.getByTestId("toasts-failure");
  await expect(failure).toContainText(/Escalated 2 orders to support in conversation sup_[0-9a-f]+; 1 order failed: /);
  await expect(failure).toContainText(picked[1].number);
  expect(writes).toBe(3);

  const [first, second, third] = await Promise.all(picked.map((p) => order(request, p.id)));
  expect(first.supportThread).toMatch(/^sup_/);
  expect(third.supportThread).toBe(first.supportThread);
  expect(second.supportThread ?? null).toBeNull();
});

test("a refused action is rolled back and its toast quotes Sync's status and message", async ({ page, request }) => {
  await open(page, "status=cancelled&pageSize=25");
  const row = page.locator("tbody tr[data-order-id]").first();
  const id = (await row.getAttribute("data-order-id"))!;
  await row.getByRole("checkbox").check();
  await page.getByTestId("bulk-fulfill").click();
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

test("a whole triage without the mouse: find, select five, assign, fulfill with tracking, escalate", async ({ page, request }) => {
  await open(page, "tab=unfulfilled&pageSize=25");
  const rows = page.locator("tbody tr[data-order-id]");
  const toast = page.getByTestId("toasts-success");

  // Find: / goes to the search box; Enter searches; Escape leaves the box; Enter opens the order.
  const number = (await rows.nth(3).getByTestId("order-link").textContent())!.trim();
  await page.keyboard.press("?");
  await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeHidden();
  await page.keyboard.press("/");
  await expect(page.getByTestId("search")).toBeFocused();
  await page.keyboard.type(number);
  await page.keyboard.press("Enter");
  await expect(rows).toHaveCount(1);
  await expect(page.getByTestId("search")).toHaveValue(number);
  await page.getByTestId("search").press("Escape");
  await page.keyboard.press("j");
  await expect(rows.first().getByTestId("order-link")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("order-drawer").getByRole("heading", { name: `Order ${number}` })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("order-drawer")).toHaveCount(0);
  await page.keyboard.press("/");
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Backspace");
  await page.keyboard.press("Enter");
  await expect(rows).toHaveCount(25);
  await page.getByTestId("search").press("Escape");

  // Select the first n: k up to the top, then x, j and x.
  const selectFirst = async (n: number) => {
    for (let i = 0; i < 30; i++) await page.keyboard.press("k");
    await page.keyboard.press("x");
    for (let i = 1; i < n; i++) {
      await page.keyboard.press("j");
      await page.keyboard.press("x");
    }
    await expect(page.getByTestId("selection-count")).toHaveText(`${n} orders selected on this page`);
  };
  await selectFirst(5);
  const five = await Promise.all([0, 1, 2, 3, 4].map((i) => rows.nth(i).getAttribute("data-order-id")));

  // Assign: a opens the form with the focus in it; Enter sends.
  await page.keyboard.press("a");
  await expect(page.getByLabel("Assign to")).toBeFocused();
  await page.keyboard.type("Kim Keys");
  await page.keyboard.press("Enter");
  await expect(toast).toContainText("Assigned 5 orders to Kim Keys");
  await expect(page.getByTestId("selection-count")).toContainText("Select orders");

  // Fulfill with tracking: f, the number, Tab, the carrier, Enter.
  await selectFirst(5);
  await page.keyboard.press("f");
  await expect(page.getByLabel("Tracking number (optional)")).toBeFocused();
  await page.keyboard.type("1ZKEYS0001");
  await page.keyboard.press("Tab");
  await page.keyboard.type("UPS");
  await page.keyboard.press("Enter");
  await expect(toast).toContainText("Marked 5 orders as fulfilled with tracking 1ZKEYS0001 (UPS)");
  for (const id of five) {
    const o = await order(request, id!);
    expect(o.assignedTo).toBe("Kim Keys");
    expect(o.status).toBe("fulfilled");
  }

  // Escalate two: e, the note, Tab to the conversation, Enter.
  await expect(page.locator(`tbody tr[data-order-id="${five[0]}"]`)).toHaveCount(0);
  await selectFirst(2);
  const two = await Promise.all([0, 1].map((i) => rows.nth(i).getAttribute("data-order-id")));
  await page.keyboard.press("e");
  await expect(page.getByLabel("Note for support")).toBeFocused();
  await page.keyboard.type("Please call these customers");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await expect(toast).toContainText(/Escalated 2 orders to support in conversation sup_/);
  const [a, b] = await Promise.all(two.map((id) => order(request, id!)));
  expect(a.supportThread).toMatch(/^sup_/);
  expect(b.supportThread).toBe(a.supportThread);
});

test("a write unanswered for 20 s is sent once more with the same key, and applied once", async ({ page, request }) => {
  await page.clock.install();
  await open(page, "assigned_to=unassigned&pageSize=25");
  const row = page.locator("tbody tr[data-order-id]").first();
  const id = (await row.getAttribute("data-order-id"))!;
  await row.getByRole("checkbox").check();
  // The first request goes unanswered (held here); the retry goes through.
  const held: import("@playwright/test").Route[] = [];
  const keys: string[] = [];
  await page.route("**/api/post_write*", async (route) => {
    keys.push(JSON.parse(route.request().postData() ?? "{}").key);
    if (keys.length === 1) {
      held.push(route);
      return;
    }
    await route.continue();
  });
  const bar = page.getByTestId("bulk-bar");
  await bar.getByTestId("bulk-assign").click();
  await bar.getByLabel("Assign to").fill("Robin Retry");
  await bar.getByRole("button", { name: "Assign", exact: true }).click();
  await expect.poll(() => keys.length).toBe(1);
  // Optimistic, and saying it is working until Sync answers.
  await expect(page.locator(`tbody tr[data-order-id="${id}"] [data-assignee]`)).toHaveAttribute("data-assignee", "Robin Retry");
  await expect(page.getByTestId("selection-count")).toHaveText("Saving…");
  await expect(page.getByTestId("bulk-bar")).toHaveAttribute("aria-busy", "true");
  await page.clock.fastForward(21_000);
  await expect(page.getByTestId("toasts-success")).toContainText("Assigned 1 order to Robin Retry");
  expect(keys).toHaveLength(2);
  expect(keys[0]).toMatch(/^dash-/);
  expect(keys[1]).toBe(keys[0]);

  // The first request arrives late: the same key, so it is answered alike and not applied again.
  const late = await held[0].fetch();
  expect(late.status()).toBe(200);
  expect(await late.json()).toHaveProperty("Ok");
  await held[0].fulfill({ response: late });
  const o = await order(request, id);
  expect(o.assignedTo).toBe("Robin Retry");
  const assigned = (o.timeline as { event: string; details: string }[]).filter((e) => e.details.includes("Robin Retry"));
  expect(assigned).toHaveLength(1);
});

test("fulfilling with tracking clears the row's tracking-pending badge at once, before Sync answers", async ({ page }) => {
  await open(page, "tab=tracking_pending&pageSize=25");
  const row = page.locator("tbody tr[data-order-id]").last();
  await expect(row.locator('[data-alert="tracking_pending"]')).toBeVisible();
  await row.getByRole("checkbox").check();
  // Sync's answer is held: what the row shows meanwhile is the page's own.
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  await page.route("**/api/post_write*", async (route) => {
    await held;
    await route.continue();
  });
  const bar = page.getByTestId("bulk-bar");
  await bar.getByTestId("bulk-fulfill").click();
  await bar.getByLabel("Tracking number (optional)").fill("1ZOPTIMIST");
  await bar.getByLabel("Carrier").fill("UPS");
  await bar.getByRole("button", { name: "Mark fulfilled" }).click();
  await expect(row.locator('[data-alert="tracking_pending"]')).toHaveCount(0);
  await expect(row.locator("[data-status]")).toHaveAttribute("data-status", "fulfilled");
  release();
  await expect(page.getByTestId("toasts-success")).toContainText("Marked 1 order as fulfilled");
});
