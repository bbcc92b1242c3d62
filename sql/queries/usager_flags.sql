-- The usager-level rules of the indicators (indicators.md), shared by the count queries and the
-- worklists (issue 15): included by `-- @include usager_flags` at the top of a query. Parameters:
--   $1 = W.start (D − 3 months, R-T1), $2 = D (excluded), $3 = grappe ids (text[]) or null for all.
-- Dated activity (update traces, agenda, DMP) is read from usager_month (migration 0002, ADR 0006):
-- one row per usager and month with a mask of the days of activity, so W is at most four months
-- of narrow rows, the edge months masked to W's days. Every usager's facts fold into one row of
-- flags (bit_or):
--   1 accompanied in W (R-P1)   2 a trace in W (R-P3)   4 a qualifying PP (R-I2)
--   8 a non-cancelled agenda event in W (R-I3)   16 a DMP deposit in W (R-I5)
-- and `population` says, for each usager accompanied in W, which numerator it belongs to.
with scope as (
  select finess, grappe_id, exempt_mss_dmp from essms where $3::text[] is null or grappe_id = any($3::text[])
),
w as (
  select activity_month($1::date) as m_first, activity_month($2::date - 1) as m_last,
    -- days ≥ W.start in the first month; days ≤ D − 1 in the last
    ~(activity_day_bit($1::date) - 1) as first_days,
    (activity_day_bit($2::date - 1) - 1) | activity_day_bit($2::date - 1) as last_days
),
-- Every usager's facts fold into one row of flags within its ESSMS: for each ESSMS in scope, a
-- lateral subquery reads that ESSMS's séjours, PP and usager_month rows through their FINESS
-- keys and groups them by usager (a usager key belongs to one FINESS: usager is keyed by
-- (finess, pseudonym), migration 0001). The hash tables stay small (one ESSMS, ~100 usagers)
-- and the plan is the same for one ESSMS, a grappe or a region (ADR 0017; measured against one
-- region-wide fold: 1.8 s instead of 2.2–2.6 s for a regional date, on one core instead of three).
per_usager as (
  select e.finess, u.usager, u.f, u.created
  from essms e
  cross join w
  cross join lateral (
    select x.usager, bit_or(x.f) as f, min(x.created) as created
    from (
      -- R-P1: a séjour overlapping W; R-P4: the earliest date_creation (null when none is given)
      select s.usager,
        case when s.date_entree < $2::date and (s.date_sortie is null or s.date_sortie >= $1::date) then 1 else 0 end as f,
        s.date_creation as created
      from sejour s
      where s.finess = e.finess
      union all
      -- R-I2: created before D, ENPREPARATION or ENCOURS, or TERMINE with date_fin ≥ W.start
      select p.usager, 4, null
      from projet_personnalise p
      where p.finess = e.finess
        and (p.date_creation is null or p.date_creation < $2::date)
        and (p.statut in ('ENPREPARATION', 'ENCOURS') or (p.statut = 'TERMINE' and p.date_fin >= $1::date))
      union all
      -- R-P3, R-I3, R-I5 from the monthly day masks
      select m.usager,
        case when (m.trace_dossier | m.trace_pp | m.trace_agenda) & k.days <> 0 then 2 else 0 end
        | case when m.agenda & k.days <> 0 then 8 else 0 end
        | case when m.dmp & k.days <> 0 then 16 else 0 end,
        null
      from usager_month m
      cross join lateral (
        select case when m.month = w.m_first then w.first_days else -1 end
          & case when m.month = w.m_last then w.last_days else -1 end as days
      ) k
      where m.finess = e.finess and m.month between w.m_first and w.m_last
    ) x
    group by x.usager
  ) u
  where $3::text[] is null or e.grappe_id = any($3::text[])
),

-- The file active computed (R-P1) and, per usager, each numerator it counts in. R-P4: a dossier
-- actif was created before D (its earliest date_creation, or none given).
population as (
  select usager, finess, f, created,
    f & 2 <> 0 and (created is null or created < $2::date) as actif,
    f & 6 = 6 and (created is null or created < $2::date) as with_pp,
    f & 10 = 10 and (created is null or created < $2::date) as with_agenda,
    f & 16 <> 0 as with_dmp
  from per_usager where f & 1 <> 0
)
