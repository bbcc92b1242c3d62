/**
 * « Notifications » (issue 31), `#/notifications`: the person's notifications, newest first, each
 * linked to the page that shows the matter (opening it marks it read), « Marquer comme lue »; and
 * what they receive by mail, kind by kind: at once, in the daily or weekly digest, or not by mail.
 */
import {
  MAIL_MODE_LABELS,
  MAIL_MODES,
  type MailMode,
  NOTIFICATION_KINDS,
  NOTIFICATION_LABELS,
} from "../../../domain/notifications.ts";
import { api, type NotificationList } from "../api.ts";
import { chosen, field, select } from "../components/field.ts";
import { form, submitButton } from "../components/form.ts";
import { row, table } from "../components/table.ts";
import { alert, frDateTime, h, mount } from "../dom.ts";
import type { Page } from "../main.ts";

/** Tells the header's bell how many are unread (it shows the count without a new request). */
export function announceUnread(unread: number): void {
  window.dispatchEvent(new CustomEvent("cibles:non-lues", { detail: unread }));
}

function list(n: NotificationList, redraw: () => void): HTMLElement {
  return table({
    id: "table-notifications",
    caption: `Mes notifications (${n.unread} non ${n.unread > 1 ? "lues" : "lue"})`,
    headers: ["Quand", "Notification", "État"],
    empty: "Aucune notification pour l'instant.",
    body: n.notifications.map((x) =>
      row(
        [
          frDateTime(x.created_at),
          h(
            "a",
            {
              href: x.link,
              onclick: () => {
                if (!x.read) void api.notificationRead(x.id).catch(() => {});
              },
            },
            x.title,
          ),
          x.read
            ? "lue"
            : h(
                "button",
                {
                  class: "fr-btn fr-btn--sm fr-btn--tertiary",
                  type: "button",
                  "aria-label": `Marquer comme lue : ${x.title}`,
                  onclick: async () => {
                    await api.notificationRead(x.id);
                    redraw();
                  },
                },
                "Marquer comme lue",
              ),
        ],
        x.read ? {} : { class: "cu-non-lue", "data-non-lue": "" },
      ),
    ),
  });
}

export const notificationsPage: Page = {
  title: "Notifications",
  async render(main, me, params, path) {
    const [n, prefs] = await Promise.all([api.notifications(), api.preferences()]);
    announceUnread(n.unread);
    const area = h(
      "div",
      {},
      list(n, () => void notificationsPage.render(main, me, params, path)),
    );
    const selects = NOTIFICATION_KINDS.map((k) =>
      select(
        { id: `pref-${k}`, name: k },
        MAIL_MODES.map((m) => [m, MAIL_MODE_LABELS[m]] as const),
        prefs[k],
      ),
    );
    mount(
      main,
      h("h1", {}, "Notifications"),
      area,
      h("h2", { class: "fr-h4 fr-mt-4w" }, "Ce que je reçois par courriel"),
      h(
        "p",
        {},
        "Chaque notification s'affiche ici. Par courriel, choisissez pour chaque type : aussitôt, dans le résumé du jour (8 h, heure de Paris), dans celui de la semaine (lundi 8 h) ou pas du tout. Un courriel ne contient jamais de donnée sur une personne accompagnée : l'ESSMS, des nombres et un lien.",
      ),
      form(
        {
          attrs: { id: "form-preferences" },
          submit: async () => {
            const body = Object.fromEntries(
              NOTIFICATION_KINDS.map((k, i) => [
                k,
                chosen(selects[i] as HTMLSelectElement, MAIL_MODES) as MailMode,
              ]),
            );
            await api.setPreferences(body);
            return alert("success", "Préférences enregistrées");
          },
        },
        ...NOTIFICATION_KINDS.map((k, i) => field(NOTIFICATION_LABELS[k], selects[i] as HTMLSelectElement)),
        submitButton("Enregistrer mes préférences"),
      ),
    );
  },
};
