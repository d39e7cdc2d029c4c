-- The completion PUT's own transaction (crates/learning/src/completions.rs `complete`),
-- for pgbench on a copy of the learning bench's database with bench/completions.py's
-- numbered pb_users and pb_challenges: a random learner completes a random challenge.
\set u random(1, 5000)
\set c random(1, 50000)
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT u.display_name FROM pb_challenges c JOIN challenges ch ON ch.id = c.id, pb_users p JOIN users u ON u.id = p.id WHERE c.n = :c AND p.n = :u;
INSERT INTO completions (id, challenge_id, user_id, solution, completed_at) SELECT gen_random_uuid()::text, c.id, p.id, 'done', 1 FROM pb_challenges c, pb_users p WHERE c.n = :c AND p.n = :u ON CONFLICT (user_id, challenge_id) DO UPDATE SET solution = excluded.solution;
COMMIT;
