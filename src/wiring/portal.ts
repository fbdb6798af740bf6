/** The portal area: browser sessions, maturity grading, DORA metrics and the web UI served at `/`. */
import { DoraService } from "../core/portal/dora-service.js";
import { MaturityService } from "../core/portal/maturity-service.js";
import { SessionService } from "../core/portal/sessions.js";
import { serverExtensions } from "../server/server.js";
import { mountWebUi } from "../server/web-ui.js";
import { SqlAccessStore } from "../stores/metadata/access-store.js";
import { SqlDoraFacts } from "../stores/metadata/dora-facts-store.js";
import { SqlMaturityFacts } from "../stores/metadata/maturity-facts-store.js";
import { SqlSessionStore } from "../stores/metadata/portal-store.js";
import type { Wiring } from "./kit.js";

declare module "../server/services.js" {
  interface Services {
    sessions: SessionService;
    maturity: MaturityService;
    dora: DoraService;
  }
}

const mountUi = (app: Parameters<typeof mountWebUi>[0]) => mountWebUi(app);

export const wirePortal: Wiring = ({ sql, services }) => {
  services.sessions = new SessionService({
    metadata: services.metadata,
    audit: services.audit,
    access: new SqlAccessStore(sql),
    sessions: new SqlSessionStore(sql),
  });
  services.maturity = new MaturityService({ facts: new SqlMaturityFacts(sql) });
  services.dora = new DoraService({ facts: new SqlDoraFacts(sql) });
  // Module-level list: add the UI once however many times services are created (tests open many).
  if (!serverExtensions.includes(mountUi)) serverExtensions.push(mountUi);
};
