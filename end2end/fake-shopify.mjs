// A fake Shopify for the embedded-app browser tests (end2end/tests/embedded.spec.ts), built from
// Shopify's documented request and answer shapes like the Rust tests' fake
// (server/tests/api/fake_shopify.rs). Plain Node 20, no dependencies. One origin serves every shop
// (the server's SHOPIFY_API_BASE_URL is this origin, without `{shop}`):
//
// - `POST /admin/oauth/access_token`: the token exchange of a session token (verified as Shopify
//   does: HS256 with the client secret, `exp`/`nbf`, `aud` = the client id; the shop is its `dest`)
//   for an expiring offline token, and its refresh (`grant_type: refresh_token`, single use).
//   Refusals are Shopify's: 400 `invalid_client`, `invalid_subject_token`, `invalid_grant`,
//   `unsupported_grant_type`.
// - `POST /admin/api/2026-10/graphql.json`: the orders query, for an issued and unrevoked
//   `X-Shopify-Access-Token` (else 401), over FAKE_SHOPIFY_ORDERS orders paged by the `first` and
//   `after` variables, each node in the fixture's shape (tests/fixtures/shopify/
//   graphql_orders_page.json), with the query cost and a leaky bucket in `extensions.cost`. The
//   `query` filter variable is ignored. The same endpoint answers the shop query
//   (`{ shop { ianaTimezone } }`) as Shopify does (`{"data":{"shop":{"ianaTimezone":"UTC"}}}`),
//   counted apart from the orders queries (`shopQueries`, not `graphqlRequests`).
// - `GET /app-bridge.js`: the stub App Bridge (below), configured by its own URL's query
//   (`?secret=…&api_key=…`).
// - For the tests, under `/_fake/`: `GET /_fake/state` (what happened, in all and by shop),
//   `POST /_fake/revoke` (`{"shop": …}` or `?shop=`: revokes every token of the shop, as Shopify
//   does at an uninstall).
//
// Settings (environment): FAKE_SHOPIFY_PORT (or the first argument; 0 picks one, printed as
// `fake shopify: http://127.0.0.1:PORT`), FAKE_SHOPIFY_CLIENT_ID, FAKE_SHOPIFY_CLIENT_SECRET,
// FAKE_SHOPIFY_ORDERS (5000), FAKE_SHOPIFY_EXPIRES_IN (3600 s, what Shopify gives expiring offline
// tokens), FAKE_SHOPIFY_COST_PER_ORDER (requested points an order; 0.5 as the Rust fake prices a
// page), FAKE_SHOPIFY_RESTORE_RATE (points a second, 100) and FAKE_SHOPIFY_TIMEZONE (the shops'
// `ianaTimezone`, UTC).

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const API_VERSION = "2026-10";
const env = process.env;
const port = Number(process.argv[2] ?? env.FAKE_SHOPIFY_PORT ?? 0);
const clientId = env.FAKE_SHOPIFY_CLIENT_ID ?? "e2e-client-id";
const clientSecret = env.FAKE_SHOPIFY_CLIENT_SECRET ?? "e2e-client-secret";
const orderCount = Number(env.FAKE_SHOPIFY_ORDERS ?? 5000);
const expiresIn = Number(env.FAKE_SHOPIFY_EXPIRES_IN ?? 3600);
const costPerOrder = Number(env.FAKE_SHOPIFY_COST_PER_ORDER ?? 0.5);
const restoreRate = Number(env.FAKE_SHOPIFY_RESTORE_RATE ?? 100);
const timeZone = env.FAKE_SHOPIFY_TIMEZONE ?? "UTC";
const MAX_AVAILABLE = 2000;
const REFRESH_TOKEN_EXPIRES_IN = 2_592_000;
const SCOPE = "read_orders,write_orders,read_all_orders,read_returns,read_fulfillments";

const fixture = JSON.parse(
  readFileSync(new URL("../tests/fixtures/shopify/graphql_orders_page.json", import.meta.url), "utf8"),
);
// The fixture's second order (no customer, unfulfilled), as the Rust fake uses it.
const NODE_TEMPLATE = fixture.data.orders.edges[1].node;
// The orders' clock: order n of N was created (N - n) * 7 minutes before the fake started.
const STARTED = Date.now();

// ---- state -------------------------------------------------------------------------------------

const state = {
  exchanges: 0,
  refreshes: 0,
  refused: 0,
  graphqlRequests: 0,
  graphqlRefused: 0,
  shopQueries: 0,
  tokensIssued: 0,
  tokensRevoked: 0,
  shops: {},
};
/** access token -> { shop, revoked } */
const accessTokens = new Map();
/** refresh token -> { shop, used, revoked, expiresAt } */
const refreshTokens = new Map();
/** shop -> { available, at } : the leaky bucket of the GraphQL Admin API */
const buckets = new Map();

function shopState(shop) {
  state.shops[shop] ??= { exchanges: 0, refreshes: 0, graphqlRequests: 0, tokensIssued: 0, tokensRevoked: 0 };
  return state.shops[shop];
}

// ---- helpers -----------------------------------------------------------------------------------

function send(res, status, body, headers = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function readJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function base64url(buf) {
  return Buffer.from(buf).toString("base64url");
}

/** The payload of an HS256 JWT signed with the client secret, or the reason it is refused. */
function verifySessionToken(jwt) {
  const parts = String(jwt ?? "").split(".");
  if (parts.length !== 3) return { error: "not a JWT" };
  const [h, p, s] = parts;
  const header = readJson(Buffer.from(h, "base64url").toString("utf8"));
  if (header?.alg !== "HS256") return { error: "not HS256" };
  const expected = createHmac("sha256", clientSecret).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { error: "bad signature" };
  const claims = readJson(Buffer.from(p, "base64url").toString("utf8"));
  if (!claims) return { error: "unreadable claims" };
  const now = Date.now() / 1000;
  // Shopify's libraries allow 10 s of clock tolerance.
  if (typeof claims.exp !== "number" || claims.exp + 10 < now) return { error: "expired" };
  if (typeof claims.nbf === "number" && claims.nbf - 10 > now) return { error: "not yet valid" };
  if (claims.aud !== clientId) return { error: "another app's token" };
  const shop = /^https:\/\/([a-z0-9][a-z0-9-]*\.myshopify\.com)$/i.exec(claims.dest ?? "")?.[1]?.toLowerCase();
  if (!shop) return { error: "dest names no shop" };
  if (claims.iss !== `https://${shop}/admin`) return { error: "iss is not the shop's admin" };
  return { shop, claims };
}

function issueTokens(shop) {
  const n = ++state.tokensIssued;
  const access = `shpat_fake_${n}_${randomBytes(8).toString("hex")}`;
  const refresh = `shprt_fake_${n}_${randomBytes(8).toString("hex")}`;
  accessTokens.set(access, { shop, revoked: false });
  refreshTokens.set(refresh, {
    shop,
    used: false,
    revoked: false,
    expiresAt: Date.now() + REFRESH_TOKEN_EXPIRES_IN * 1000,
  });
  shopState(shop).tokensIssued++;
  return {
    access_token: access,
    scope: SCOPE,
    expires_in: expiresIn,
    refresh_token: refresh,
    refresh_token_expires_in: REFRESH_TOKEN_EXPIRES_IN,
  };
}

function refuse(res, error, description) {
  state.refused++;
  send(res, 400, { error, error_description: description });
}

// ---- POST /admin/oauth/access_token --------------------------------------------------------------

function accessToken(res, body) {
  if (!body || body.client_id !== clientId || body.client_secret !== clientSecret) {
    return refuse(res, "invalid_client", "Client authentication failed: unknown client or wrong secret");
  }
  switch (body.grant_type) {
    case "urn:ietf:params:oauth:grant-type:token-exchange": {
      if (
        body.subject_token_type !== "urn:ietf:params:oauth:token-type:id_token" ||
        body.requested_token_type !== "urn:shopify:params:oauth:token-type:offline-access-token"
      ) {
        return refuse(res, "invalid_request", "Unsupported subject_token_type or requested_token_type");
      }
      const verified = verifySessionToken(body.subject_token);
      if (verified.error) return refuse(res, "invalid_subject_token", `Subject token is invalid (${verified.error})`);
      state.exchanges++;
      shopState(verified.shop).exchanges++;
      const answer = issueTokens(verified.shop);
      // `expiring: "0"` (or none) asks for a token that does not expire.
      if (body.expiring !== "1") {
        delete answer.expires_in;
        delete answer.refresh_token;
        delete answer.refresh_token_expires_in;
      }
      return send(res, 200, answer);
    }
    case "refresh_token": {
      const known = refreshTokens.get(body.refresh_token);
      if (!known || known.used || known.revoked || known.expiresAt < Date.now()) {
        return refuse(res, "invalid_grant", "The refresh token is invalid or expired");
      }
      known.used = true;
      state.refreshes++;
      shopState(known.shop).refreshes++;
      return send(res, 200, issueTokens(known.shop));
    }
    default:
      return refuse(res, "unsupported_grant_type", `Unsupported grant_type ${JSON.stringify(body.grant_type)}`);
  }
}

// ---- POST /admin/api/2026-10/graphql.json --------------------------------------------------------

function orderNode(n) {
  const node = structuredClone(NODE_TEMPLATE);
  const created = STARTED - (orderCount - n + 1) * 7 * 60_000;
  const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
  node.id = `gid://shopify/Order/${n}`;
  node.legacyResourceId = String(n);
  node.name = `#${n}`;
  node.createdAt = iso(created);
  node.updatedAt = iso(created + 5 * 60_000);
  node.totalPriceSet.shopMoney.amount = String(10 + ((n * 37) % 500) + (n % 4) * 0.25);
  return node;
}

/** The shop's bucket, refilled to now. */
function bucket(shop) {
  const now = Date.now();
  const b = buckets.get(shop) ?? { available: MAX_AVAILABLE, at: now };
  b.available = Math.min(MAX_AVAILABLE, b.available + ((now - b.at) / 1000) * restoreRate);
  b.at = now;
  buckets.set(shop, b);
  return b;
}

function throttleStatus(b) {
  return { maximumAvailable: MAX_AVAILABLE, currentlyAvailable: Math.floor(b.available), restoreRate };
}

/** `{ shop { ianaTimezone } }`: the shop's time zone, read once at install. */
function shopQuery(req, res) {
  state.shopQueries++;
  const token = req.headers["x-shopify-access-token"];
  const known = typeof token === "string" ? accessTokens.get(token) : undefined;
  if (!known || known.revoked) {
    return send(res, 401, { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" });
  }
  return send(res, 200, { data: { shop: { ianaTimezone: timeZone } } });
}

function graphql(req, res, body) {
  if (typeof body?.query === "string" && /\bshop\s*\{\s*ianaTimezone\b/.test(body.query)) {
    return shopQuery(req, res);
  }
  state.graphqlRequests++;
  const token = req.headers["x-shopify-access-token"];
  const known = typeof token === "string" ? accessTokens.get(token) : undefined;
  if (!known || known.revoked) {
    state.graphqlRefused++;
    return send(res, 401, { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" });
  }
  const shop = known.shop;
  shopState(shop).graphqlRequests++;
  if (!body || typeof body.query !== "string") {
    return send(res, 400, { errors: { query: "Required parameter missing or invalid" } });
  }
  if (!body.query.includes("orders(first: $first")) {
    return send(res, 200, { errors: [{ message: "This fake answers the orders query only" }] });
  }
  const vars = body.variables ?? {};
  const first = Number(vars.first);
  if (!Number.isInteger(first) || first < 1 || first > 250) {
    return send(res, 200, {
      errors: [{ message: "The first argument must be between 1 and 250", extensions: { code: "BAD_USER_INPUT" } }],
    });
  }
  // Shopify prices the query before running it: `first` orders and what each one asks for.
  const requested = Math.ceil(2 + first * costPerOrder);
  const b = bucket(shop);
  if (b.available < requested) {
    return send(res, 200, {
      errors: [
        { message: "Throttled", extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" } },
      ],
      extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: throttleStatus(b) } },
    });
  }
  const after = vars.after ? Number(Buffer.from(String(vars.after), "base64").toString("utf8").split(":")[1]) : 0;
  const start = Number.isInteger(after) && after >= 0 ? after : 0;
  const end = Math.min(orderCount, start + first);
  const edges = [];
  for (let n = start + 1; n <= end; n++) {
    edges.push({ cursor: Buffer.from(`order:${n}`).toString("base64"), node: orderNode(n) });
  }
  // The actual cost: what was returned (half of what was asked, as the Rust fake answers).
  const actual = Math.ceil(2 + edges.length * costPerOrder * 0.5);
  b.available -= actual;
  send(res, 200, {
    data: {
      orders: {
        pageInfo: { hasNextPage: end < orderCount, endCursor: edges.at(-1)?.cursor ?? null },
        edges,
      },
    },
    extensions: { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: throttleStatus(b) } },
  });
}

// ---- /_fake/ -------------------------------------------------------------------------------------

function revoke(res, shop) {
  if (!shop) return send(res, 400, { error: "name the shop: {\"shop\": \"acme.myshopify.com\"}" });
  let revoked = 0;
  for (const t of accessTokens.values()) {
    if (t.shop === shop && !t.revoked) {
      t.revoked = true;
      revoked++;
    }
  }
  for (const t of refreshTokens.values()) if (t.shop === shop) t.revoked = true;
  state.tokensRevoked += revoked;
  shopState(shop).tokensRevoked += revoked;
  send(res, 200, { shop, revoked });
}

// ---- GET /app-bridge.js: the stub App Bridge -------------------------------------------------------

// What Shopify's App Bridge does for the app, as far as the dashboard uses it (SPEC §10;
// shopify.dev "ID Token API", "Toast API", "Resource Fetching API"), configured by its own
// script URL: `?secret=<client secret>&api_key=<client id>`.
// - `shopify.idToken()`: a fresh session token, HS256-signed with the secret (crypto.subtle), for
//   the page's `shop` (on the bounce page, the `shop` of its `shopify-reload` URL).
// - `shopify.toast.show(message, { isError })`: recorded in `window.__appBridgeToasts`.
// - `fetch` to this origin carries `Authorization: Bearer <fresh token>`; a 401 with
//   `X-Shopify-Retry-Invalid-Session-Request: 1` is retried once with a new token.
// - On the bounce page (`/auth/session-token`), it reloads `shopify-reload` (a same-origin path)
//   with `id_token` added.
function appBridge() {
  "use strict";
  const script = document.currentScript;
  const config = new URL(script ? script.src : "about:blank").searchParams;
  const secret = config.get("secret") || "";
  const apiKey = config.get("api_key") || "";
  const BOUNCE_PATH = "/auth/session-token";
  const here = new URL(location.href);
  const bounceTarget = here.pathname === BOUNCE_PATH ? here.searchParams.get("shopify-reload") : null;
  const shop = bounceTarget
    ? new URL(bounceTarget, location.origin).searchParams.get("shop")
    : here.searchParams.get("shop");

  const encoder = new TextEncoder();
  const b64url = (bytes) =>
    btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const b64urlText = (text) => b64url(encoder.encode(text));
  const random = () => b64url(crypto.getRandomValues(new Uint8Array(12)));
  const keyPromise = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);

  async function idToken() {
    if (!shop) throw new Error("stub App Bridge: the page names no shop");
    const now = Math.floor(Date.now() / 1000);
    const header = b64urlText(JSON.stringify({ alg: "HS256", typ: "JWT" }));
    const payload = b64urlText(
      JSON.stringify({
        iss: `https://${shop}/admin`,
        dest: `https://${shop}`,
        aud: apiKey,
        sub: "staff-e2e",
        exp: now + 60,
        nbf: now - 5,
        iat: now - 5,
        jti: random(),
        sid: random(),
      }),
    );
    const signature = await crypto.subtle.sign("HMAC", await keyPromise, encoder.encode(`${header}.${payload}`));
    return `${header}.${payload}.${b64url(signature)}`;
  }

  window.__appBridgeToasts = window.__appBridgeToasts || [];
  window.__appBridgeFetches = 0;
  window.shopify = {
    config: { apiKey, shop },
    idToken,
    toast: {
      show(message, opts) {
        window.__appBridgeToasts.push({ message: String(message), isError: !!(opts && opts.isError) });
        return "toast-" + window.__appBridgeToasts.length;
      },
      hide() {},
    },
  };

  const originalFetch = window.fetch.bind(window);
  window.fetch = async function fetch(input, init) {
    const raw = input instanceof Request ? input.url : String(input);
    let url;
    try {
      url = new URL(raw, location.href);
    } catch {
      return originalFetch(input, init);
    }
    if (url.origin !== location.origin || !shop) return originalFetch(input, init);
    // A body read once cannot be sent twice: keep the Request to clone it for a retry.
    const request = new Request(input, init);
    const send = async () => {
      const attempt = request.clone();
      const headers = new Headers(attempt.headers);
      if (!headers.has("authorization")) headers.set("authorization", `Bearer ${await idToken()}`);
      window.__appBridgeFetches++;
      return originalFetch(new Request(attempt, { headers }));
    };
    const response = await send();
    if (response.status === 401 && response.headers.get("x-shopify-retry-invalid-session-request") === "1") {
      return send();
    }
    return response;
  };

  if (bounceTarget) {
    const target = new URL(bounceTarget, location.origin);
    if (target.origin === location.origin && bounceTarget.startsWith("/") && !bounceTarget.startsWith("//")) {
      idToken().then((token) => {
        target.searchParams.set("id_token", token);
        location.replace(target.pathname + target.search + target.hash);
      });
    } else {
      console.error("stub App Bridge: shopify-reload is not a path on this site:", bounceTarget);
    }
  }
}

const APP_BRIDGE_JS = `// Stub App Bridge served by end2end/fake-shopify.mjs (tests only).\n(${appBridge.toString()})();\n`;

// ---- the server ----------------------------------------------------------------------------------

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? "/", "http://fake");
    const route = `${req.method} ${url.pathname}`;
    if (route === "GET /app-bridge.js") {
      return send(res, 200, APP_BRIDGE_JS, { "content-type": "text/javascript; charset=utf-8" });
    }
    if (route === "GET /_fake/state") return send(res, 200, state);
    if (route === "GET /healthz") return send(res, 200, "ok");
    if (req.method !== "POST") return send(res, 404, { errors: "Not Found" });
    const text = await readBody(req);
    const body = readJson(text);
    if (route === "POST /admin/oauth/access_token") return accessToken(res, body);
    if (route === `POST /admin/api/${API_VERSION}/graphql.json`) return graphql(req, res, body);
    if (route === "POST /_fake/revoke") return revoke(res, body?.shop ?? url.searchParams.get("shop"));
    send(res, 404, { errors: "Not Found" });
  } catch (e) {
    console.error("fake shopify:", e);
    if (!res.headersSent) send(res, 500, { errors: "Internal Server Error" });
  }
});

server.listen(port, "127.0.0.1", () => {
  console.log(`fake shopify: http://127.0.0.1:${server.address().port} (${orderCount} orders a shop)`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
