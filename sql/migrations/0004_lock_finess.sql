-- Per-FINESS transaction locks: the 256 buckets that refresh_usager_month takes (0002), taken in
-- bucket order. The importer takes them for the FINESS of each chunk before merging it
-- (ADR 0007), so that two imports of one FINESS run one after the other from their first chunk
-- instead of interleaving their upserts; a deadlock between imports of several FINESS met in
-- opposite orders is retried by the importer.
create function lock_finess(p_finess text[]) returns void
language plpgsql as $fn$
declare
  bucket int;
begin
  for bucket in select distinct hashtext(f) & 255 from unnest(p_finess) f order by 1 loop
    perform pg_advisory_xact_lock(727002, bucket);
  end loop;
end
$fn$;
