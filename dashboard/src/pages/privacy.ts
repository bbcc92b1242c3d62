/**
 * « Données personnelles » (issue 35 §5): the register entry a DPO asks for — purposes, categories
 * of data, what is never stored, retention, recipients, security — and the controller's contacts
 * (configuration). Readable without signing in: it is linked from every page's footer.
 */
import { PRIVACY_SECTIONS, type PrivacyContacts } from "../../../domain/privacy.ts";
import { api } from "../api.ts";
import { h } from "../dom.ts";

function contacts(c: PrivacyContacts): HTMLElement {
  const line = (label: string, value: string | null) =>
    h("p", { class: "fr-mb-1w" }, `${label} : ${value ?? "non renseigné (à fixer par l'exploitant)"}`);
  return h(
    "section",
    { "aria-labelledby": "contacts" },
    h("h2", { id: "contacts", class: "fr-h4 fr-mt-4w" }, "Responsable du traitement"),
    line("Responsable du traitement", c.controller_name),
    line("Contact", c.controller_contact),
    line("Délégué à la protection des données", c.dpo_contact),
    h(
      "p",
      {},
      "Pour exercer vos droits (accès, rectification, limitation, opposition), adressez-vous au délégué à la protection des données.",
    ),
  );
}

export async function privacyPage(main: HTMLElement): Promise<void> {
  const c = await api.privacy();
  main.replaceChildren(
    h("h1", {}, "Données personnelles"),
    h(
      "p",
      {},
      "Ce que l'outil de suivi des cibles d'usage fait des données personnelles : l'entrée du registre des traitements.",
    ),
    ...PRIVACY_SECTIONS.map((s) =>
      h(
        "section",
        { "aria-labelledby": `rgpd-${s.id}` },
        h("h2", { id: `rgpd-${s.id}`, class: "fr-h4 fr-mt-4w" }, s.title),
        h(
          "ul",
          {},
          s.items.map((i) => h("li", {}, i)),
        ),
      ),
    ),
    contacts(c),
  );
}
