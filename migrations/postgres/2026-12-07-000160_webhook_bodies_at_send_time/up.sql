-- A delivery of an activity entry no longer stores its body: it names the entry
-- (`activity_seq`, the entry's `activity.seq`) and the worker builds the body from the
-- entry when it claims the delivery (see the SQLite migration of the same name).
ALTER TABLE webhook_deliveries ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE webhook_deliveries ADD COLUMN activity_seq BIGINT;
ALTER TABLE webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_body CHECK (payload IS NOT NULL OR activity_seq IS NOT NULL);
