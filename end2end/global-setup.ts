// Waits for the server to answer /healthz before any test runs: the test scripts (and
// `cargo leptos end-to-end`) start the server and the tests at the same time.
const baseURL = process.env.BASE_URL ?? "http://127.0.0.1:3000";
const deadline = Number(process.env.HEALTH_TIMEOUT_MS ?? 60_000);

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  let last = "no answer";
  while (Date.now() - started < deadline) {
    try {
      const res = await fetch(`${baseURL}/healthz`);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${baseURL}/healthz did not answer within ${deadline} ms (${last})`);
}
