-- The shop's time zone as Shopify names it (`shop { ianaTimezone }`, e.g. `Asia/Tokyo`), read at
-- install: the dashboard shows the shop's times and cuts its days in it. NULL until known; the
-- dashboard then uses SHOP_TIMEZONE.
ALTER TABLE shops ADD COLUMN iana_timezone text;
