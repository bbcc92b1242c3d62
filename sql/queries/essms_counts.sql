-- Per-ESSMS counts at one measurement date D (indicators.md). Parameters:
--   $1 = W.start (D − 3 months, R-T1), $2 = D (excluded), $3 = grappe ids (text[]) or null for all.
-- Counts only: rates, targets, adjustments arithmetic and verdicts are domain/indicators.ts.
with scope as (
  select finess, grappe_id, exempt_mss_dmp from essms where $3::text[] is null or grappe_id = any($3::text[])
),
-- R-P1: usagers with a séjour overlapping W, once per ESSMS.
accompanied as (
  select distinct s.finess, s.usager
  from sejour s join scope using (finess)
  where s.date_entree < $2::date and (s.date_sortie is null or s.date_sortie >= $1::date)
),
-- R-P4: the dossier existed before D (earliest date_creation < D, or none given).
created as (
  select s.finess, s.usager
  from sejour s join scope using (finess)
  group by s.finess, s.usager
  having min(s.date_creation) is null or min(s.date_creation) < $2::date
),
-- R-P3: update traces in W.
traced as (
  select t.finess, t.usager from update_trace t join scope using (finess)
  where t.day >= $1::date and t.day < $2::date
  union all
  select p.finess, p.usager from projet_personnalise p join scope using (finess)
  where p.date_maj >= $1::date and p.date_maj < $2::date
  union all
  select e.finess, e.usager from agenda_event e join scope using (finess)
  where e.date_maj >= $1::date and e.date_maj < $2::date
),
actif as (
  select a.finess, a.usager
  from accompanied a
  join created c using (finess, usager)
  where exists (select 1 from traced t where t.finess = a.finess and t.usager = a.usager)
),
-- R-I2: a qualifying projet personnalisé.
with_pp as (
  select distinct p.finess, p.usager from projet_personnalise p join actif a using (finess, usager)
  where (p.date_creation is null or p.date_creation < $2::date)
    and (p.statut in ('ENPREPARATION', 'ENCOURS') or (p.statut = 'TERMINE' and p.date_fin >= $1::date))
),
-- R-I3: a qualifying agenda event.
with_agenda as (
  select distinct e.finess, e.usager from agenda_event e join actif a using (finess, usager)
  where e.date_debut >= $1::date and e.date_debut < $2::date and e.statut <> 'ANNULE'
),
-- R-I4: messages sent, not failed, in W.
mss as (
  select m.finess, count(*)::int as n from mss_message m join scope using (finess)
  where m.date_envoi >= $1::date and m.date_envoi < $2::date and m.sens = 'ENVOYE' and m.statut <> 'ECHEC'
  group by m.finess
),
-- R-I5: distinct accompanied usagers with a deposit in W.
dmp as (
  select d.finess, count(distinct d.usager)::int as n
  from dmp_document d join accompanied a using (finess, usager)
  where d.date_depot >= $1::date and d.date_depot < $2::date and d.statut = 'DEPOSE'
  group by d.finess
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
    coalesce(sum(a.nombre) filter (where a.indicateur = 'dossiers_actifs'), 0)::int as dossiers_actifs,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'projet_personnalise'), 0)::int as projet_personnalise,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'agenda'), 0)::int as agenda,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'mss'), 0)::int as mss,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'dmp'), 0)::int as dmp
  from amenagement a join scope using (finess)
  where a.statut = 'APPROUVE' and a.date_debut <= $2::date and (a.date_fin is null or $2::date <= a.date_fin)
  group by a.finess
),
per_usager as (
  select finess, count(*)::int as n from accompanied group by finess
),
per_actif as (
  select finess, count(*)::int as n from actif group by finess
),
per_pp as (
  select finess, count(*)::int as n from with_pp group by finess
),
per_agenda as (
  select finess, count(*)::int as n from with_agenda group by finess
)
select s.finess, s.grappe_id, s.exempt_mss_dmp,
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
from scope s
left join per_usager fa using (finess)
left join declared dec using (finess)
left join per_actif da using (finess)
left join per_pp pp using (finess)
left join per_agenda ag using (finess)
left join mss using (finess)
left join dmp using (finess)
left join optional o using (finess)
left join adj using (finess)
order by s.finess;
