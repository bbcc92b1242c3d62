-- API tokens expire (issue 29 §10): every token has an end, set when it is created
-- (TOKEN_DAYS_DEFAULT, at most TOKEN_DAYS_MAX). Tokens made before this migration never expired:
-- they get the default lifetime from today, so that no script stops at once.
alter table api_token add column expires_at timestamptz;
update api_token set expires_at = now() + interval '90 days' where expires_at is null;
alter table api_token alter column expires_at set not null;
