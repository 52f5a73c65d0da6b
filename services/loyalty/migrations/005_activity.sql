-- When the member last earned or redeemed (the event's time): points expire after a store's
-- months without activity.
ALTER TABLE members ADD COLUMN last_activity_at timestamptz;
CREATE INDEX members_by_activity ON members (store_id, last_activity_at);
