/**
 * The regions of the programme, as a person names them. A grappe's `region` is a code
 * (referential, upper case: OCC, BRE…); the dashboard shows its name, never the code alone.
 */
export const REGION_LABELS: Readonly<Record<string, string>> = {
  ARA: "Auvergne-Rhône-Alpes",
  BFC: "Bourgogne-Franche-Comté",
  BRE: "Bretagne",
  CVL: "Centre-Val de Loire",
  COR: "Corse",
  GES: "Grand Est",
  HDF: "Hauts-de-France",
  IDF: "Île-de-France",
  NOR: "Normandie",
  NAQ: "Nouvelle-Aquitaine",
  OCC: "Occitanie",
  PDL: "Pays de la Loire",
  PAC: "Provence-Alpes-Côte d'Azur",
  GUA: "Guadeloupe",
  GUY: "Guyane",
  MAR: "Martinique",
  REU: "La Réunion",
  MAY: "Mayotte",
};

/** "Occitanie" for OCC; a code the list does not know is named as such: « région de code XYZ ». */
export function regionLabel(code: string): string {
  return REGION_LABELS[code.toUpperCase()] ?? `région de code ${code}`;
}
