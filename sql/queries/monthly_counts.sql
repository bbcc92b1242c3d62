-- Per-ESSMS counts at every first day of month D from $1 on, for $2 months (at most 60), in one
-- set-based pass: the monthly history. Parameters: $1 first D (a first day of month), $2 number
-- of months, $3 grappe ids (text[]) or null, $4 finess or null.
-- When D is the first day of a month, W = [D − 3 months, D) is exactly three calendar months.
-- Months are numbered from the first window's start (k = 0 … $2 + 2); the window of the k-th D
-- covers months k, k+1, k+2. Each usager's dated activity is folded into one bigint mask of the
-- months in which it occurs (bit k = month k), so "a trace in W" is `mask & (7 << k) <> 0`: one
-- row per (finess, usager) instead of one per fact. Traces, agenda and DMP come from usager_month
-- (one row per usager and month, migration 0002): a month has the activity when its day mask is
-- not zero. The figures are those of essms_counts.sql
-- at each D: the test "history equals the report at every month" holds the two queries together.
with months as (
  -- an integer series: the planner then knows how many months there are
  select i as k, ($1::date + make_interval(months => i))::date as d,
    ($1::date + make_interval(months => i - 3))::date as ws
  from generate_series(0, $2::int - 1) i
),
bounds as (
  select ($1::date - interval '3 months')::date as lo, ($1::date + make_interval(months => $2::int - 1))::date as hi,
    activity_month(($1::date - interval '3 months')::date) as m_lo,
    activity_month(($1::date + make_interval(months => $2::int - 1))::date) as m_hi
),
scope as (
  select finess, grappe_id, exempt_mss_dmp from essms
  where ($3::text[] is null or grappe_id = any($3::text[])) and ($4::text is null or finess = $4::text)
),
-- Bits k = lo … hi (clamped to the months asked for), as a bigint mask of measurement dates.
-- Everything below is per (finess, usager): one row each, however many facts it has.
-- R-P1: D_k has the séjour when date_entree < D_k (k ≥ month(entree) − month(D_0) + 1) and
-- date_sortie ≥ W_k.start (k ≤ month(sortie) + 3 − month(D_0)); R-P4 likewise for the earliest
-- date_creation.
sejour_mask as (
  select s.finess, s.usager,
    bit_or(
      case when least(coalesce(p.mi_sortie + 3 - p.m0, $2::int - 1), $2::int - 1) < greatest(p.mi_entree - p.m0 + 1, 0) then 0::bigint
      else (1::bigint << (least(coalesce(p.mi_sortie + 3 - p.m0, $2::int - 1), $2::int - 1) + 1))
        - (1::bigint << greatest(p.mi_entree - p.m0 + 1, 0)) end
    ) as acc,
    min(s.date_creation) as first_created
  from sejour s
  join essms g on g.finess = s.finess and ($3::text[] is null or g.grappe_id = any($3::text[])) and ($4::text is null or g.finess = $4::text)
  cross join lateral (
    select activity_month(s.date_entree) as mi_entree,
      activity_month(s.date_sortie) as mi_sortie,
      activity_month($1::date) as m0
  ) p
  group by s.finess, s.usager
),
-- R-P3 (update traces), R-I3 (non-cancelled agenda events), R-I5 (DMP deposits): the months
-- (bit j = month j from the first window's start) with that activity.
activity_mask as (
  select m.finess, m.usager,
    bit_or(case when (m.trace_dossier | m.trace_pp | m.trace_agenda) <> 0 then 1::bigint << (m.month - b.m_lo) else 0 end) as trace,
    bit_or(case when m.agenda <> 0 then 1::bigint << (m.month - b.m_lo) else 0 end) as agenda,
    bit_or(case when m.dmp <> 0 then 1::bigint << (m.month - b.m_lo) else 0 end) as dmp
  from usager_month m
  cross join bounds b
  -- The scope: with every grappe the test folds to true and nothing is joined; with a grappe or
  -- an ESSMS, `finess = any(…)` is an index condition. The bounds are written out, not only
  -- through `bounds`, so that the planner reads the months' rows from the table's statistics
  -- (through the CTE it expected 0.5 M of a region's 4 M rows, and hashed them: ADR 0016).
  where ($3::text[] is null and $4::text is null or m.finess = any(array(select finess from scope)))
    and m.month >= activity_month(($1::date - interval '3 months')::date)
    and m.month < activity_month(($1::date + make_interval(months => $2::int - 1))::date)
  group by m.finess, m.usager
),
-- R-I2: D_k has a qualifying PP when it was created before D_k and is ENPREPARATION or ENCOURS,
-- or TERMINE with date_fin ≥ W_k.start.
pp_mask as (
  select p.finess, p.usager,
    bit_or(
      case when q.hi < q.lo then 0::bigint else (1::bigint << (q.hi + 1)) - (1::bigint << q.lo) end
    ) as mask
  from projet_personnalise p
  join essms g on g.finess = p.finess and ($3::text[] is null or g.grappe_id = any($3::text[])) and ($4::text is null or g.finess = $4::text)
  cross join lateral (
    select greatest(
        case when p.date_creation is null then 0
        else activity_month(p.date_creation)
          - (activity_month($1::date)) + 1 end, 0) as lo,
      least(
        case when p.statut in ('ENPREPARATION', 'ENCOURS') then $2::int - 1
        when p.statut = 'TERMINE' and p.date_fin is not null then
          activity_month(p.date_fin) + 3
          - (activity_month($1::date))
        else -1 end, $2::int - 1) as hi
  ) q
  group by p.finess, p.usager
),
-- Materialised once (one row per usager), then repeated per month: joined after the repetition,
-- the two joins ran on 3.4 M rows instead of 0.4 M at regional scale (ADR 0016).
usager_flags as materialized (
  select s.finess, s.usager, s.acc, s.first_created,
    coalesce(a.trace, 0) as trace, coalesce(p.mask, 0) as pp, coalesce(a.agenda, 0) as agenda, coalesce(a.dmp, 0) as dmp
  from sejour_mask s
  left join activity_mask a using (finess, usager)
  left join pp_mask p using (finess, usager)
),
-- One row per (D, accompanied usager), with what it counts for.
per_d as (
  select mo.d, u.finess,
    (u.first_created is null or u.first_created < mo.d) and u.trace & (7::bigint << mo.k) <> 0 as actif,
    u.pp & (1::bigint << mo.k) <> 0 as has_pp,
    u.agenda & (7::bigint << mo.k) <> 0 as has_agenda,
    u.dmp & (7::bigint << mo.k) <> 0 as has_dmp
  from months mo join usager_flags u on u.acc & (1::bigint << mo.k) <> 0
),
counts as (
  select d, finess, count(*)::int as fa,
    count(*) filter (where actif)::int as da,
    count(*) filter (where actif and has_pp)::int as pp,
    count(*) filter (where actif and has_agenda)::int as agenda,
    count(*) filter (where has_dmp)::int as dmp
  from per_d group by d, finess
),
-- R-I4: messages sent, not failed, per month (scope and bounds as for usager_month).
mss_month as (
  select m.finess, activity_month(m.date_envoi) - b.m_lo as mk, count(*)::int as n
  from mss_message m
  cross join bounds b
  where ($3::text[] is null and $4::text is null or m.finess = any(array(select finess from scope)))
    and m.date_envoi >= ($1::date - interval '3 months')::date
    and m.date_envoi < ($1::date + make_interval(months => $2::int - 1))::date
    and m.sens = 'ENVOYE' and m.statut <> 'ECHEC'
  group by 1, 2
),
mss as (
  select mo.d, x.finess, sum(x.n)::int as n
  from months mo join mss_month x on x.mk >= mo.k and x.mk < mo.k + 3
  group by mo.d, x.finess
),
-- R-I7
optional_month as (
  select o.finess, activity_month(o.day) - b.m_lo as mk,
    count(*) filter (where o.kind = 'eprescription')::int as eprescription,
    count(*) filter (where o.kind = 'eparcours')::int as eparcours
  from optional_event o join scope using (finess), bounds b
  where o.day >= b.lo and o.day < b.hi
  group by 1, 2
),
optional as (
  select mo.d, x.finess, sum(x.eprescription)::int as eprescription, sum(x.eparcours)::int as eparcours
  from months mo join optional_month x on x.mk >= mo.k and x.mk < mo.k + 3
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
    coalesce(sum(a.nombre) filter (where a.indicateur = 'dossiers_actifs'), 0)::bigint as dossiers_actifs,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'projet_personnalise'), 0)::bigint as projet_personnalise,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'agenda'), 0)::bigint as agenda,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'mss'), 0)::bigint as mss,
    coalesce(sum(a.nombre) filter (where a.indicateur = 'dmp'), 0)::bigint as dmp
  from months mo join amenagement a on a.statut = 'APPROUVE' and a.date_debut <= mo.d
    and (a.date_fin is null or mo.d <= a.date_fin)
  join scope using (finess)
  group by mo.d, a.finess
)
select mo.d, s.finess, s.grappe_id, s.exempt_mss_dmp,
  coalesce(c.fa, 0) as fa_computed,
  dec.valeur as fa_declared,
  coalesce(c.da, 0) as da,
  coalesce(c.pp, 0) as pp,
  coalesce(c.agenda, 0) as agenda,
  coalesce(mss.n, 0) as mss,
  coalesce(c.dmp, 0) as dmp,
  coalesce(o.eprescription, 0) as eprescription,
  coalesce(o.eparcours, 0) as eparcours,
  coalesce(adj.dossiers_actifs, 0) as adj_dossiers_actifs,
  coalesce(adj.projet_personnalise, 0) as adj_projet_personnalise,
  coalesce(adj.agenda, 0) as adj_agenda,
  coalesce(adj.mss, 0) as adj_mss,
  coalesce(adj.dmp, 0) as adj_dmp
from months mo cross join scope s
left join counts c on c.d = mo.d and c.finess = s.finess
left join declared dec on dec.d = mo.d and dec.finess = s.finess
left join mss on mss.d = mo.d and mss.finess = s.finess
left join optional o on o.d = mo.d and o.finess = s.finess
left join adj on adj.d = mo.d and adj.finess = s.finess
order by mo.d, s.finess;
