import { defineConfig } from "@playwright/test";

// Browser tests of the dashboard against a running `orders-sync` (scripts/test.sh starts one on a
// fresh database and sets BASE_URL). The browser is the system's Chromium: nothing is downloaded.
const baseURL = process.env.BASE_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  // The look's baselines (tests/look.spec.ts), one file a view and width, committed: no platform
  // suffix, as the tests run on one kind of machine (Debian's Chromium).
  snapshotPathTemplate: "{testDir}/../__screenshots__/{testFilePath}/{arg}{ext}",
  globalSetup: "./global-setup.ts",
  timeout: 30_000,
  expect: {
    timeout: 10_000,
    toHaveScreenshot: { animations: "disabled", caret: "hide", scale: "css" },
  },
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: process.env.CI ? 2 : undefined,
  reporter: process.env.CI ? "list" : [["list"], ["html", { open: "never" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [{ name: "chromium" }],
});
