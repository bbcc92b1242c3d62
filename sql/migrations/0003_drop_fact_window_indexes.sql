-- Since usager_month (0002, ADR 0006) carries the dated activity, no query reads agenda events,
-- DMP deposits or update traces by date any more: the indicator queries read usager_month, and
-- its refresh reads the facts of a set of FINESS through their primary keys (finess first).
-- These indexes only cost index maintenance at every import.
drop index agenda_event_window;
drop index agenda_event_maj;
drop index dmp_document_window;
drop index update_trace_day;
