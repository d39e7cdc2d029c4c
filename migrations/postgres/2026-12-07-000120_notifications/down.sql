DROP TABLE notifications;
DROP TABLE notification_counters;
DROP TABLE comment_mentions;
