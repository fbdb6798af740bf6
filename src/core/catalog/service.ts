/** The Backstage catalog as routes and the CLI ask for it: the caller's visible projects, mapped. */
import type { Principal } from "../governance/model.js";
import { toBackstageEntities } from "./backstage.js";
import type { BackstageEntity, CatalogFacts } from "./model.js";

/** Where a project's catalog facts are read (every area's records, read-only). */
export interface CatalogFactsSource {
  collect(project: string): Promise<CatalogFacts>;
}

export class CatalogService {
  constructor(
    private readonly options: {
      facts: CatalogFactsSource;
      /** The projects `principal` may view (a viewer role or more, within its token's cap). */
      visibleProjects: (principal: Principal) => Promise<string[]>;
    },
  ) {}

  async backstage(principal: Principal, uiUrl: string): Promise<BackstageEntity[]> {
    const projects = await this.options.visibleProjects(principal);
    const facts: CatalogFacts[] = [];
    for (const p of projects) facts.push(await this.options.facts.collect(p));
    return toBackstageEntities(facts, { uiUrl });
  }
}
