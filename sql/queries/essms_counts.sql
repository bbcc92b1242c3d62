-- Per-ESSMS counts at one measurement date D (indicators.md). Parameters:
--   $1 = W.start (D − 3 months, R-T1), $2 = D (excluded), $3 = grappe ids (text[]) or null for all.
-- Counts only: rates, targets, adjustments arithmetic and verdicts are domain/indicators.ts. The
-- usager-level rules (R-P1, R-P3, R-P4, R-I2, R-I3, R-I5) are sql/queries/usager_flags.sql.
-- @include usager_flags
,
counts as (
  select finess collate "C" as finess,
    count(*)::int as fa,
    count(*) filter (where actif)::int as da,
    count(*) filter (where with_pp)::int as pp,
    count(*) filter (where with_agenda)::int as agenda,
    count(*) filter (where with_dmp)::int as dmp
  from population
  group by finess collate "C"
),
-- R-I7: optional counts.
optional as (
  select o.finess,
    count(*) filter (where o.kind = 'eprescription')::int as eprescription,
    count(*) filter (where o.kind = 'eparcours')::int as eparcours
  from optional_event o join scope using (finess)
  where o.day >= $1::date and o.day < $2::date
  group by o.finess
),
-- R-P2: the latest declared file active covering D.
declared as (
  select distinct on (f.finess) f.finess, f.valeur
  from file_active_declared f join scope using (finess)
  where f.date_debut <= $2::date and $2::date <= f.date_fin
  order by f.finess, f.date_debut desc, f.declaration_id desc
),
-- R-A1: approved adjustments covering D.
adj as (
  select a.finess,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'dossiers_actifs'), 0)::bigint as dossiers_actifs,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'projet_personnalise'), 0)::bigint as projet_personnalise,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'agenda'), 0)::bigint as agenda,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'mss'), 0)::bigint as mss,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'dmp'), 0)::bigint as dmp
  from amenagement a join scope using (finess)
  where a.statut = 'APPROUVE' and a.date_debut <= $2::date and (a.date_fin is null or $2::date <= a.date_fin)
  group by a.finess
)
select s.finess, s.grappe_id, s.exempt_mss_dmp,
  coalesce(c.fa, 0) as fa_computed,
  dec.valeur as fa_declared,
  coalesce(c.da, 0) as da,
  coalesce(c.pp, 0) as pp,
  coalesce(c.agenda, 0) as agenda,
  -- R-I4: messages sent, not failed, in W: read per ESSMS through mss_message_window, as the
  -- usager facts are (ADR 0017)
  (select count(*) from mss_message m
    where m.finess = s.finess and m.date_envoi >= $1::date and m.date_envoi < $2::date
      and m.sens = 'ENVOYE' and m.statut <> 'ECHEC')::int as mss,
  coalesce(c.dmp, 0) as dmp,
  coalesce(o.eprescription, 0) as eprescription,
  coalesce(o.eparcours, 0) as eparcours,
  coalesce(adj.dossiers_actifs, 0) as adj_dossiers_actifs,
  coalesce(adj.projet_personnalise, 0) as adj_projet_personnalise,
  coalesce(adj.agenda, 0) as adj_agenda,
  coalesce(adj.mss, 0) as adj_mss,
  coalesce(adj.dmp, 0) as adj_dmp
from scope s
left join counts c on c.finess = s.finess collate "C"
left join declared dec on dec.finess = s.finess
left join optional o on o.finess = s.finess
left join adj on adj.finess = s.finess
order by s.finess;
