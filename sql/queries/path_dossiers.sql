-- The dossiers of each ESSMS's file active at D (R-P1) as R-G5 reads them (the path to the
-- targets, domain/coupled-path.ts): whether each is actif (R-P4), existed before D, has a
-- qualifying PP (R-I2) and a qualifying event in W (R-I3), whether or not it is active, and its
-- reference, the tie-break (the expression of worklist.sql; test/integration/worklist.test.ts
-- holds the two lists together). Parameters: $1 = W.start, $2 = D (excluded), $3 = grappe ids
-- (text[]). Flags only: domain/coupled-path.ts decides (and sorts by reference, in byte order).
-- @include usager_flags
select p.finess,
  upper(substr(md5('ref:' || u.pseudonym), 1, 10)) as ref,
  p.actif,
  (p.created is null or p.created < $2::date) as created_before,
  p.f & 4 <> 0 as pp,
  p.f & 8 <> 0 as event
from population p
join usager u on u.usager = p.usager
order by p.finess;
