-- MS Santé messages counted per FINESS, day, direction and status (issue 18 §5, ADR 0016).
-- R-I4 counts the messages sent and not failed in W, per ESSMS: the indicator queries read these
-- daily counts (a region's three months: 0.3 M rows instead of 0.8 M messages, and 1.2 M instead
-- of 3.1 M for the monthly history). The table holds counts of facts, not a rule: which messages
-- count (sens, statut, the window) stays in sql/queries/*.sql.
--
-- It is kept exact by statement triggers on mss_message, in the transaction of the change,
-- whoever the writer is (an import, a rollback, a raw `psql` update): inserted rows are added,
-- deleted rows subtracted, an update moves each row from its old key to its new one, a truncate
-- empties it. A count that falls to 0 stays as a row of 0 (it adds nothing to a sum).
create table mss_day (
  finess text not null,
  day date not null,
  sens text not null,
  statut text not null,
  n integer not null check (n >= 0),
  primary key (finess, day, sens, statut)
);

-- No message may be written between the count below and the triggers: a writer of an older
-- version (another process on the same database) waits until this migration commits.
lock table mss_message in share row exclusive mode;

insert into mss_day (finess, day, sens, statut, n)
  select finess, date_envoi, sens, statut, count(*)::int from mss_message group by 1, 2, 3, 4;

create function mss_day_count() returns trigger
language plpgsql as $fn$
begin
  if tg_op = 'TRUNCATE' then
    truncate mss_day;
  elsif tg_op = 'INSERT' then
    insert into mss_day as d (finess, day, sens, statut, n)
      select finess, date_envoi, sens, statut, count(*)::int from new_rows group by 1, 2, 3, 4
      on conflict (finess, day, sens, statut) do update set n = d.n + excluded.n;
  elsif tg_op = 'DELETE' then
    update mss_day d set n = d.n - o.n
      from (select finess, date_envoi as day, sens, statut, count(*)::int as n from old_rows group by 1, 2, 3, 4) o
      where d.finess = o.finess and d.day = o.day and d.sens = o.sens and d.statut = o.statut;
  else
    -- An update: the net change of each key, rows as they are now minus rows as they were. A
    -- re-import of the same messages changes no key and writes nothing here. Keys that lose rows
    -- exist (their rows were counted) and are decreased; keys that gain rows are added to.
    with delta as (
      select finess, day, sens, statut, sum(k)::int as n from (
        select finess, date_envoi as day, sens, statut, 1 as k from new_rows
        union all
        select finess, date_envoi, sens, statut, -1 from old_rows
      ) x
      group by 1, 2, 3, 4 having sum(k) <> 0
    ), lost as (
      update mss_day d set n = d.n + x.n from delta x
      where x.n < 0 and d.finess = x.finess and d.day = x.day and d.sens = x.sens and d.statut = x.statut
    )
    insert into mss_day as d (finess, day, sens, statut, n)
      select finess, day, sens, statut, n from delta where n > 0
      on conflict (finess, day, sens, statut) do update set n = d.n + excluded.n;
  end if;
  return null;
end
$fn$;

do $do$
begin
  execute 'create trigger mss_message_mss_day_i after insert on mss_message
           referencing new table as new_rows for each statement execute function mss_day_count()';
  execute 'create trigger mss_message_mss_day_u after update on mss_message
           referencing old table as old_rows new table as new_rows for each statement execute function mss_day_count()';
  execute 'create trigger mss_message_mss_day_d after delete on mss_message
           referencing old table as old_rows for each statement execute function mss_day_count()';
  execute 'create trigger mss_message_mss_day_t after truncate on mss_message
           for each statement execute function mss_day_count()';
end
$do$;
