/** `tandem catalog export`: the Backstage catalog (entities, or the project templates as Software Templates). */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { UsageError, openApi } from "./context.js";
import type { BackstageEntity } from "../core/catalog/model.js";
import { writeSoftwareTemplates } from "./software-templates.js";

export function registerCatalogCommands(program: Command): void {
  const catalog = program
    .command("catalog")
    .description("The software catalog: Tandem's projects, models, datasets, endpoints and pipelines for Backstage.");
  catalog
    .command("export")
    .description(
      "Print the projects you may view as Backstage entities (JSON {items}, or --yaml for a multi-document catalog-info.yaml), or with --templates DIR write each `tandem init` template as a Backstage Software Template (DIR/<template>/template.yaml and its skeleton).",
    )
    .option("--format <format>", "backstage (the only catalog format)", "backstage")
    .option("--yaml", "a multi-document catalog-info.yaml instead of JSON")
    .option("--ui-url <url>", "where Tandem's UI is, for the entities' links (default: the server's URL)")
    .option("-o, --out <file>", "write to a file instead of standard output")
    .option("--templates <dir>", "write the Software Templates into DIR instead (it must be empty or absent)")
    .action(async (opts: { format: string; yaml?: boolean; uiUrl?: string; out?: string; templates?: string }) => {
      if (opts.format !== "backstage") throw new UsageError(`--format: expected backstage, got ${opts.format}`);
      if (opts.templates !== undefined) {
        const written = writeSoftwareTemplates(opts.templates);
        for (const file of written) process.stdout.write(`wrote ${file}\n`);
        return;
      }
      const api = await openApi();
      const { items } = await api.get<{ items: BackstageEntity[] }>(
        "/api/v1/catalog/backstage",
        opts.uiUrl ? { ui_url: opts.uiUrl } : undefined,
      );
      const text = opts.yaml
        ? (await import("../core/catalog/backstage.js")).backstageYaml(items)
        : `${JSON.stringify({ items }, null, 2)}\n`;
      if (opts.out) writeFileSync(opts.out, text);
      else process.stdout.write(text);
    });
}
