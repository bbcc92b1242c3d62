-- The persons of one ESSMS's file active at D (R-P1) with the numerators they count in, and what
-- explains those they miss (issue 15: the worklists). Parameters: $1 = W.start, $2 = D
-- (excluded), $3 = the ESSMS's grappe (text[]), $4 = its FINESS. The rules are usager_flags.sql,
-- the very text the counts use; the columns after them only describe the facts.
-- `ref`: a short stable reference derived from the pseudonym (never the pseudonym itself).
-- @include usager_flags
select p.usager, u.pseudonym,
  upper(substr(md5('ref:' || u.pseudonym), 1, 10)) as ref,
  p.actif, p.with_pp, p.with_agenda, p.with_dmp,
  p.f & 2 <> 0 as traced, p.created,
  -- R-G5 (the path to the targets): a qualifying PP or event whether or not the dossier is active,
  -- and whether it existed before D (R-P4); as path_dossiers.sql gives them
  p.f & 4 <> 0 as has_pp, p.f & 8 <> 0 as has_event, (p.created is null or p.created < $2::date) as created_before,
  s.date_entree, s.date_sortie, s.sejour_key,
  (select max(t.day) from update_trace t where t.finess = p.finess and t.usager = p.usager and t.day < $2::date)
    as last_trace,
  pp.n as pp_count, pp.paused as pp_paused, pp.ended_before as pp_ended_before, pp.created_after as pp_created_after,
  pp.last_status as pp_last_status, pp.last_date as pp_last_date,
  ag.in_w as agenda_in_w, ag.cancelled_in_w as agenda_cancelled_in_w, ag.last_date as agenda_last_date,
  ag.last_status as agenda_last_status,
  dm.failed_in_w as dmp_failed_in_w, dm.last_date as dmp_last_date, dm.last_status as dmp_last_status
from population p
join usager u on u.usager = p.usager
-- the latest séjour overlapping W (its key, for re-identification in memory only: never sent)
cross join lateral (
  select s.date_entree, s.date_sortie, s.sejour_key from sejour s
  where s.finess = p.finess and s.usager = p.usager
    and s.date_entree < $2::date and (s.date_sortie is null or s.date_sortie >= $1::date)
  order by s.date_entree desc, s.sejour_key limit 1
) s
cross join lateral (
  select count(*)::int as n,
    count(*) filter (where x.statut = 'ENPAUSE')::int as paused,
    count(*) filter (where x.statut = 'TERMINE' and x.date_fin < $1::date)::int as ended_before,
    count(*) filter (where x.date_creation >= $2::date)::int as created_after,
    (array_agg(x.statut order by coalesce(x.date_maj, x.date_debut, x.date_creation) desc)
      filter (where coalesce(x.date_maj, x.date_debut, x.date_creation) < $2::date))[1] as last_status,
    max(coalesce(x.date_maj, x.date_debut, x.date_creation)) filter (where coalesce(x.date_maj, x.date_debut, x.date_creation) < $2::date) as last_date
  from projet_personnalise x where x.finess = p.finess and x.usager = p.usager
) pp
cross join lateral (
  select count(*) filter (where x.date_debut >= $1::date and x.date_debut < $2::date)::int as in_w,
    count(*) filter (where x.date_debut >= $1::date and x.date_debut < $2::date and x.statut = 'ANNULE')::int as cancelled_in_w,
    max(x.date_debut) filter (where x.date_debut < $2::date) as last_date,
    (array_agg(x.statut order by x.date_debut desc) filter (where x.date_debut < $2::date))[1] as last_status
  from agenda_event x where x.finess = p.finess and x.usager = p.usager
) ag
cross join lateral (
  select count(*) filter (where x.date_depot >= $1::date and x.date_depot < $2::date and x.statut <> 'DEPOSE')::int as failed_in_w,
    max(x.date_depot) filter (where x.date_depot < $2::date) as last_date,
    (array_agg(x.statut order by x.date_depot desc) filter (where x.date_depot < $2::date))[1] as last_status
  from dmp_document x where x.finess = p.finess and x.usager = p.usager
) dm
where p.finess = $4
order by ref;
