-- Every change to the Sync API's tokens is announced, so that each process's cache of "whose is
-- this token" and "does this shop need one" is cleared at once (service/tokens/cache.rs). The
-- trigger covers every way a token changes: issued, revoked, or deleted with its shop. Writing
-- last_used_at changes neither answer and announces nothing.
CREATE FUNCTION api_tokens_announce() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('orders_sync_tokens', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER api_tokens_changed
    AFTER INSERT OR DELETE OR UPDATE OF shop_id, token_sha256, revoked_at ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION api_tokens_announce();

CREATE TRIGGER api_tokens_truncated
    AFTER TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION api_tokens_announce();
