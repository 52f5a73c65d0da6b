-- A table of side effects for the spine tests: one row per handler run that committed.
CREATE TABLE IF NOT EXISTS it_effects (
    id        bigserial PRIMARY KEY,
    consumer  text NOT NULL,
    event_id  text NOT NULL
);
