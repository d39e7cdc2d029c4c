-- Back to stored bodies: deliveries that name an entry get the body built from it, as
-- the worker builds it (the actor's current display name).
UPDATE webhook_deliveries d
   SET payload = json_build_object(
           'type', a.action,
           'timestamp', to_char(to_timestamp(a.created_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'data', json_build_object(
               'id', a.public_id, 'team_id', a.team_id, 'project_id', a.project_id, 'task_id', a.task_id,
               'actor', json_build_object('id', a.actor_id, 'display_name', u.display_name),
               'action', a.action, 'details', a.details::json,
               'created_at', to_char(to_timestamp(a.created_at / 1000.0) AT TIME ZONE 'UTC',
                                     'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))::text
  FROM activity a JOIN users u ON u.id = a.actor_id
 WHERE a.seq = d.activity_seq AND d.payload IS NULL;
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_body;
ALTER TABLE webhook_deliveries DROP COLUMN activity_seq;
ALTER TABLE webhook_deliveries ALTER COLUMN payload SET NOT NULL;
