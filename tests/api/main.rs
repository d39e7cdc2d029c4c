//! Black-box HTTP tests of the whole gateway: each test starts a server on port 0 with a
//! fresh database and talks to it over TCP.

mod accounts;
mod board_moves;
mod boards;
mod browser;
mod conditional;
mod copy;
mod cors;
mod counts;
mod cursors;
mod every_error;
mod failover;
mod gateway_pair;
mod gateway_races;
mod gateways;
mod helpers;
mod idempotency;
mod input;
mod labels_bulk;
mod learning;
mod learning_own;
mod many_gateways;
mod notes;
mod notifications;
mod nulls_last;
mod openapi_shapes;
mod outages;
mod platform;
mod projects;
mod streams;
mod tasks;
mod team_frontend;
mod webhooks;
