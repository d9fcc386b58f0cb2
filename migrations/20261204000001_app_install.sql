-- The embedded app's managed install (SPEC §10): the expiring offline token Shopify's token
-- exchange gives, its refresh token, the granted scopes, and whether the app is installed.
--
-- access_token, refresh_token, webhook_secret and previous_webhook_secret hold ciphertext
-- (`enc:v1:…`, AES-256-GCM under SECRETS_KEY) once a key is configured; plaintext from before is
-- encrypted at the first start with the key (server/src/secrets.rs).

ALTER TABLE shops
    -- When access_token stops working; NULL for a token that does not expire (a custom app's).
    ADD COLUMN access_token_expires_at  timestamptz,
    ADD COLUMN refresh_token            text,
    ADD COLUMN refresh_token_expires_at timestamptz,
    -- The access scopes granted, comma-separated, as Shopify last reported them.
    ADD COLUMN scopes                   text,
    -- Set by app/uninstalled, cleared by the next install: while set, the shop's session tokens
    -- are refused and it is not polled.
    ADD COLUMN uninstalled_at           timestamptz;
