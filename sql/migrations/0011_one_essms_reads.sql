-- The indicator queries read the facts one ESSMS at a time (sql/queries/usager_flags.sql,
-- ADR 0017). This migration lays the two tables they read most so that an ESSMS's rows are found
-- together, whatever order the exports came in.
--
-- Séjours and PP: their FINESS index now carries the columns the per-usager fold reads, so that
-- one ESSMS's rows are an index-only range instead of one heap page per row (a regional export
-- sorted by usager puts each ESSMS's 100 séjours on 100 pages). On the regional benchmark, one
-- report date: 0.9–1.0 s before, 0.6 s after. The worklist's lookups use the same keys.
drop index sejour_window;
create index sejour_window on sejour (finess, date_entree, date_sortie) include (usager, date_creation);
drop index projet_personnalise_usager;
create index projet_personnalise_usager on projet_personnalise (finess, usager)
  include (statut, date_creation, date_fin);

-- usager_month: usager_month_replace now inserts in key order (sql/functions/usager_month.sql);
-- the rows a database already holds are rewritten in that order once, here. On the regional
-- benchmark (4.4 M rows, rewritten in 6.5 s) the 77 rows of one ESSMS-month had been spread over
-- 33 pages, and a report date took 1.7 s instead of 1.3 s (one session).
cluster usager_month using usager_month_pkey;
