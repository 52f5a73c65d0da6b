-- A member's birthday (month and day only: enough for the bonus, less personal data), set
-- through the API; customer.erased deletes it with the member row.
ALTER TABLE members ADD COLUMN birth_month smallint CHECK (birth_month BETWEEN 1 AND 12);
ALTER TABLE members ADD COLUMN birth_day smallint CHECK (birth_day BETWEEN 1 AND 31);
CREATE INDEX members_by_birthday ON members (store_id, birth_month, birth_day) WHERE birth_month IS NOT NULL;
