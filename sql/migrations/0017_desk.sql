-- Issue 30, the ARS's desk and the team's week.
-- A proposal may be withdrawn by its team before the ARS decides (status RETIRE, kept in its
-- decisions' history like the ARS's own decisions).
alter table amenagement drop constraint amenagement_statut_check;
alter table amenagement add constraint amenagement_statut_check
  check (statut in ('PROPOSE', 'APPROUVE', 'REFUSE', 'REVOQUE', 'RETIRE'));
alter table amenagement_decision drop constraint amenagement_decision_decision_check;
alter table amenagement_decision add constraint amenagement_decision_decision_check
  check (decision in ('APPROUVE', 'REFUSE', 'REVOQUE', 'RETIRE'));
-- A solde decided on a frozen report measured before the grappe's target date, or on a date whose
-- exports are incomplete, says so (its motive is then mandatory).
alter table solde_decision add column before_target boolean not null default false;
alter table solde_decision add column data_incomplete boolean not null default false;
-- The grappe page shows the solde decision in force (issue 30 §3): a decision marks its grappe,
-- so that the page kept ready to send (ADR 0018) moves with it.
select add_data_change_triggers('solde_decision', 'data_change_by_grappe');
