-- Issue 36 (ADR 0031): an import gives each new usager of a chunk its key by looking up its
-- pseudonym (ingest/stage.ts `registerUsagers`). A hash join built a hash of the whole `usager`
-- table for every chunk: at regional scale (400 000 usagers, 27 chunks a monthly delivery) that
-- was most of the time spent on usagers' keys, and it grew with the region, not with the chunk.
-- A hash index on the pseudonym lets each chunk probe for its own usagers only. The pseudonym is
-- an HMAC of the FINESS and the DUI id, so that it alone finds the row; the unique key
-- (finess, pseudonym) stays what guarantees one usager per FINESS and DUI id.
create index usager_pseudonym_hash on usager using hash (pseudonym);
