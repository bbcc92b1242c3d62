-- usager_month is read one ESSMS at a time (sql/queries/usager_flags.sql, ADR 0017): the rows of
-- one FINESS and month should sit on adjacent pages. usager_month_replace now inserts them in key
-- order (sql/functions/usager_month.sql); the rows a database already holds are rewritten in that
-- order once, here. On the regional benchmark (4.4 M rows, rewritten in 6.5 s) the 77 rows of one
-- ESSMS-month had been spread over 33 pages, and a report date took 1.7 s instead of 1.3 s.
cluster usager_month using usager_month_pkey;
