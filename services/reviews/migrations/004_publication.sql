-- The publisher's scan: approved reviews whose next attempt is due.
CREATE INDEX reviews_publishable ON reviews (next_attempt_at) WHERE status = 'approved';
