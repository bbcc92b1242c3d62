/**
 * Who uses the product (the developers' guide): one role per user. `admin` sees everything,
 * `ars` the grappes of its region, `chef_projet` and `amoa` their grappes. The French labels are
 * what a person reads.
 */
export const ROLES = ["admin", "ars", "chef_projet", "amoa"] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  admin: "administrateur",
  ars: "agent ARS",
  chef_projet: "chef de projet",
  amoa: "AMOA",
};
