-- Proof files checked and re-encoded (issue 29, kinds 4 and 8; ADR 0022).
--
-- A PNG or JPEG is stored as libvips re-encoded it (pixels only): `sha256` and `size_bytes` are
-- those of the stored bytes, and the file as it was sent is named by its own sha256 and size. A
-- PDF is stored as sent (the same values twice). Rows stored before this migration were stored as
-- sent: their original columns stay null and read as the stored ones (rows are frozen, trigger of
-- 0007: they are not rewritten).
alter table amenagement_piece add column original_sha256 text;
alter table amenagement_piece add column original_size_bytes integer check (original_size_bytes > 0);

-- PDF, PNG and JPEG are compressed already: stored out of line without a compression attempt, so
-- that the evidence pack reads a proof slice by slice (substring) without decompressing it whole.
alter table amenagement_piece alter column content set storage external;
