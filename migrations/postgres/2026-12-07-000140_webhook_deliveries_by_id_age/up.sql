-- The retention sweep finds deliveries older than 30 days by their id (UUIDv7: the
-- creation time leads it, so the primary key's order is their age), which every delivery
-- already has: the index by `created_at` was one more index written with each delivery.
DROP INDEX webhook_deliveries_by_age;
