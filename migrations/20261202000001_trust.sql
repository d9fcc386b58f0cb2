-- Trust: the Sync API's bearer tokens and the idempotency keys of the four writes. (Dashboard
-- sessions are signed cookies, not rows, so that sign-in keeps working on the sample data while the
-- database is away.)

-- A bearer token of the Sync API, scoped to one shop. Only its SHA-256 is kept: the token itself is
-- printed once, by `orders-sync token issue`. A shop that has ever had a token needs one on every
-- /sync request from then on (revoking its last token does not open it again).
CREATE TABLE api_tokens (
    id            bigserial PRIMARY KEY,
    shop_id       bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    token_sha256  bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    -- The token's first characters, so that an operator can tell tokens apart in `token list`.
    prefix        text NOT NULL,
    label         text,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_shop_idx ON api_tokens (shop_id);

-- The first successful answer to a write sent with an `Idempotency-Key`, kept 24 hours. The row is
-- written in the write's own transaction, so the key and the effect commit together or not at all,
-- and a second request with the key waits on the first one's row instead of applying twice.
CREATE TABLE idempotency_keys (
    shop_id      bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    key          text NOT NULL,
    -- SHA-256 of the endpoint and the canonical JSON of the body: the same key with another body
    -- is refused.
    fingerprint  bytea NOT NULL,
    -- What the write answered (its `updatedOrders` and message inputs), replayed to a retry.
    result       jsonb NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (shop_id, key)
);
CREATE INDEX idempotency_keys_age_idx ON idempotency_keys (created_at);
