-- Per-ESSMS counts at every first day of month D from $1 on, for $2 months, in one set-based
-- pass: the monthly history. Parameters: $1 first D (a first day of month), $2 number of months,
-- $3 grappe ids (text[]) or null, $4 finess or null.
-- When D is the first day of a month, W = [D − 3 months, D) is exactly three calendar months, so
-- every dated fact is first reduced to (finess, usager, month) — or (finess, month) counts — and a
-- window is three such months. The figures are those of essms_counts.sql at each D: the test
-- "history equals the report at every month" holds the two queries together.
with months as (
  -- an integer series: the planner then knows how many months there are (a date series is
  -- estimated at 1 000 rows, which sends every aggregate below to disk: 3 × slower)
  select ($1::date + make_interval(months => i))::date as d, ($1::date + make_interval(months => i - 3))::date as ws
  from generate_series(0, $2::int - 1) i
),
bounds as (
  select min(ws) as lo, max(d) as hi from months
),
scope as (
  select finess, grappe_id, exempt_mss_dmp from essms
  where ($3::text[] is null or grappe_id = any($3::text[])) and ($4::text is null or finess = $4::text)
),
-- R-P1 for each D.
accompanied as (
  select distinct m.d, m.ws, s.finess, s.usager
  from sejour s join scope using (finess)
  join months m on s.date_entree < m.d and (s.date_sortie is null or s.date_sortie >= m.ws)
),
-- R-P4: earliest date_creation of the dossier.
creation as (
  select s.finess, s.usager, min(s.date_creation) as first_created
  from sejour s join scope using (finess)
  group by s.finess, s.usager
),
-- R-P3: months with an update trace.
trace_month as (
  select t.finess, t.usager, date_trunc('month', t.day)::date as m
  from update_trace t join scope using (finess), bounds b
  where t.day >= b.lo and t.day < b.hi
  union
  select p.finess, p.usager, date_trunc('month', p.date_maj)::date
  from projet_personnalise p join scope using (finess), bounds b
  where p.date_maj >= b.lo and p.date_maj < b.hi
  union
  select e.finess, e.usager, date_trunc('month', e.date_maj)::date
  from agenda_event e join scope using (finess), bounds b
  where e.date_maj >= b.lo and e.date_maj < b.hi
),
actif as (
  select a.d, a.ws, a.finess, a.usager
  from accompanied a
  join creation c using (finess, usager)
  where (c.first_created is null or c.first_created < a.d)
    and exists (
      select 1 from trace_month t
      where t.finess = a.finess and t.usager = a.usager and t.m >= a.ws and t.m < a.d
    )
),
-- R-I2
with_pp as (
  select a.d, a.finess, count(*)::int as n
  from actif a
  where exists (
    select 1 from projet_personnalise p
    where p.finess = a.finess and p.usager = a.usager
      and (p.date_creation is null or p.date_creation < a.d)
      and (p.statut in ('ENPREPARATION', 'ENCOURS') or (p.statut = 'TERMINE' and p.date_fin >= a.ws))
  )
  group by a.d, a.finess
),
-- R-I3: months with a non-cancelled event.
agenda_month as (
  select distinct e.finess, e.usager, date_trunc('month', e.date_debut)::date as m
  from agenda_event e join scope using (finess), bounds b
  where e.date_debut >= b.lo and e.date_debut < b.hi and e.statut <> 'ANNULE'
),
with_agenda as (
  select a.d, a.finess, count(*)::int as n
  from actif a
  where exists (
    select 1 from agenda_month e
    where e.finess = a.finess and e.usager = a.usager and e.m >= a.ws and e.m < a.d
  )
  group by a.d, a.finess
),
-- R-I4: messages per month.
mss_month as (
  select m.finess, date_trunc('month', m.date_envoi)::date as m, count(*)::int as n
  from mss_message m join scope using (finess), bounds b
  where m.date_envoi >= b.lo and m.date_envoi < b.hi and m.sens = 'ENVOYE' and m.statut <> 'ECHEC'
  group by 1, 2
),
mss as (
  select mo.d, x.finess, sum(x.n)::int as n
  from months mo join mss_month x on x.m >= mo.ws and x.m < mo.d
  group by mo.d, x.finess
),
-- R-I5: months with a deposit, per usager.
dmp_month as (
  select distinct d.finess, d.usager, date_trunc('month', d.date_depot)::date as m
  from dmp_document d join scope using (finess), bounds b
  where d.date_depot >= b.lo and d.date_depot < b.hi and d.statut = 'DEPOSE'
),
dmp as (
  select a.d, a.finess, count(*)::int as n
  from accompanied a
  where exists (
    select 1 from dmp_month x
    where x.finess = a.finess and x.usager = a.usager and x.m >= a.ws and x.m < a.d
  )
  group by a.d, a.finess
),
-- R-I7
optional_month as (
  select o.finess, date_trunc('month', o.day)::date as m,
    count(*) filter (where o.kind = 'eprescription')::int as eprescription,
    count(*) filter (where o.kind = 'eparcours')::int as eparcours
  from optional_event o join scope using (finess), bounds b
  where o.day >= b.lo and o.day < b.hi
  group by 1, 2
),
optional as (
  select mo.d, x.finess, sum(x.eprescription)::int as eprescription, sum(x.eparcours)::int as eparcours
  from months mo join optional_month x on x.m >= mo.ws and x.m < mo.d
  group by mo.d, x.finess
),
-- R-P2
declared as (
  select distinct on (mo.d, f.finess) mo.d, f.finess, f.valeur
  from months mo join file_active_declared f on f.date_debut <= mo.d and mo.d <= f.date_fin
  join scope using (finess)
  order by mo.d, f.finess, f.date_debut desc, f.declaration_id desc
),
-- R-A1
adj as (
  select mo.d, a.finess,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'dossiers_actifs'), 0)::int as dossiers_actifs,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'projet_personnalise'), 0)::int as projet_personnalise,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'agenda'), 0)::int as agenda,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'mss'), 0)::int as mss,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'dmp'), 0)::int as dmp
  from months mo join amenagement a on a.statut = 'APPROUVE' and a.date_debut <= mo.d
    and (a.date_fin is null or mo.d <= a.date_fin)
  join scope using (finess)
  group by mo.d, a.finess
),
per_usager as (
  select d, finess, count(*)::int as n from accompanied group by d, finess
),
per_actif as (
  select d, finess, count(*)::int as n from actif group by d, finess
)
select mo.d, s.finess, s.grappe_id, s.exempt_mss_dmp,
  coalesce(fa.n, 0) as fa_computed,
  dec.valeur as fa_declared,
  coalesce(da.n, 0) as da,
  coalesce(pp.n, 0) as pp,
  coalesce(ag.n, 0) as agenda,
  coalesce(mss.n, 0) as mss,
  coalesce(dmp.n, 0) as dmp,
  coalesce(o.eprescription, 0) as eprescription,
  coalesce(o.eparcours, 0) as eparcours,
  coalesce(adj.dossiers_actifs, 0) as adj_dossiers_actifs,
  coalesce(adj.projet_personnalise, 0) as adj_projet_personnalise,
  coalesce(adj.agenda, 0) as adj_agenda,
  coalesce(adj.mss, 0) as adj_mss,
  coalesce(adj.dmp, 0) as adj_dmp
from months mo cross join scope s
left join per_usager fa on fa.d = mo.d and fa.finess = s.finess
left join declared dec on dec.d = mo.d and dec.finess = s.finess
left join per_actif da on da.d = mo.d and da.finess = s.finess
left join with_pp pp on pp.d = mo.d and pp.finess = s.finess
left join with_agenda ag on ag.d = mo.d and ag.finess = s.finess
left join mss on mss.d = mo.d and mss.finess = s.finess
left join dmp on dmp.d = mo.d and dmp.finess = s.finess
left join optional o on o.d = mo.d and o.finess = s.finess
left join adj on adj.d = mo.d and adj.finess = s.finess
order by mo.d, s.finess;
