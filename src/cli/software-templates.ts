/**
 * Each `tandem init` template as a Backstage Software Template (`scaffolder.backstage.io/v1beta3`):
 * DIR/<template>/template.yaml and DIR/<template>/skeleton/ — the template's files, which the
 * scaffolder's `fetch:template` copies into a new repository, publishes and registers.
 *
 * The scaffolder renders files with Nunjucks, whose `${{ … }}` is also Tandem's expression syntax.
 * So only tandem.yaml's `project:` line and catalog-info.yaml are templated: the rest of tandem.yaml
 * sits in a `{% raw %}` block and every other file is copied as it is (`copyWithoutTemplating`).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { stringify as toYaml } from "yaml";
import { UsageError } from "./context.js";
import {
  TEMPLATE_INFO,
  TEMPLATE_NAMES,
  runAtOnce,
  templateFiles,
  templatesRoot,
  type TemplateName,
} from "./project-templates.js";

const PROJECT_LINE = /^project:.*$/m;

/** tandem.yaml with `project: ${{ values.name }}`, the rest kept literal for Nunjucks. */
export function skeletonSpec(spec: string): string {
  const match = PROJECT_LINE.exec(spec);
  if (!match) throw new Error("template tandem.yaml has no top-level project: line");
  const head = spec.slice(0, match.index);
  const rest = spec.slice(match.index + match[0].length);
  return `${head}project: \${{ values.name }}{% raw %}${rest}{% endraw %}`;
}

function catalogInfo(name: TemplateName): string {
  return toYaml(
    {
      apiVersion: "backstage.io/v1alpha1",
      kind: "Component",
      metadata: {
        name: "${{ values.name }}",
        description: TEMPLATE_INFO[name].description,
        annotations: { "tandem.dev/project": "${{ values.name }}", "tandem.dev/template": name },
        tags: ["tandem"],
      },
      spec: { type: TEMPLATE_INFO[name].type, lifecycle: "experimental", owner: "${{ values.owner }}" },
    },
    { lineWidth: 0 },
  );
}

export function softwareTemplate(name: TemplateName, files: string[]): Record<string, unknown> {
  const info = TEMPLATE_INFO[name];
  return {
    apiVersion: "scaffolder.backstage.io/v1beta3",
    kind: "Template",
    metadata: {
      name: `tandem-${name}`,
      title: info.title,
      description: `${info.description} Runs at once: \`${runAtOnce(name).join(" ")}\`.`,
      tags: ["tandem", "mlops", name],
      annotations: { "tandem.dev/template": name },
    },
    spec: {
      type: info.type,
      parameters: [
        {
          title: "The Tandem project",
          required: ["name", "owner"],
          properties: {
            name: {
              title: "Project name",
              type: "string",
              description: "The tandem.yaml `project:`, the repository and the catalog entity name.",
              pattern: "^[a-z][a-z0-9-]{0,62}$",
            },
            owner: {
              title: "Owner",
              type: "string",
              description: "The team or person who owns it.",
              "ui:field": "OwnerPicker",
              "ui:options": { catalogFilter: { kind: ["Group", "User"] } },
            },
          },
        },
        {
          title: "Repository",
          required: ["repoUrl"],
          properties: {
            repoUrl: {
              title: "Repository location",
              type: "string",
              "ui:field": "RepoUrlPicker",
              "ui:options": { allowedHosts: ["github.com"] },
            },
          },
        },
      ],
      steps: [
        {
          id: "fetch",
          name: "Copy the Tandem template",
          action: "fetch:template",
          input: {
            url: "./skeleton",
            values: { name: "${{ parameters.name }}", owner: "${{ parameters.owner }}" },
            copyWithoutTemplating: files.filter((f) => f !== "tandem.yaml"),
          },
        },
        {
          id: "publish",
          name: "Publish",
          action: "publish:github",
          input: {
            repoUrl: "${{ parameters.repoUrl }}",
            description: info.description,
            defaultBranch: "main",
          },
        },
        {
          id: "register",
          name: "Register in the catalog",
          action: "catalog:register",
          input: {
            repoContentsUrl: "${{ steps.publish.output.repoContentsUrl }}",
            catalogInfoPath: "/catalog-info.yaml",
          },
        },
      ],
      output: {
        links: [
          { title: "Repository", url: "${{ steps.publish.output.remoteUrl }}" },
          { title: "Open in catalog", icon: "catalog", entityRef: "${{ steps.register.output.entityRef }}" },
        ],
        text: [
          {
            title: "Next",
            content: `Clone the repository, then \`tandem validate\` and \`${runAtOnce(name).join(" ")}\`.`,
          },
        ],
      },
    },
  };
}

/** Writes DIR/<template>/template.yaml and its skeleton for every template; returns the paths written. */
export function writeSoftwareTemplates(dir: string): string[] {
  const out = resolve(dir);
  if (existsSync(out) && readdirSync(out).length > 0)
    throw new UsageError(`--templates: ${out} is not empty; give a new or empty folder (nothing is overwritten)`);
  const written: string[] = [];
  const write = (path: string, content: string | Buffer) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content, { flag: "wx" });
    written.push(path);
  };
  for (const name of TEMPLATE_NAMES) {
    const source = join(templatesRoot(), name);
    if (!existsSync(join(source, "tandem.yaml"))) continue;
    const files = templateFiles(source);
    for (const file of files) {
      const text = readFileSync(join(source, file));
      write(join(out, name, "skeleton", file), file === "tandem.yaml" ? skeletonSpec(text.toString("utf8")) : text);
    }
    write(join(out, name, "skeleton", "catalog-info.yaml"), catalogInfo(name));
    write(join(out, name, "template.yaml"), toYaml(softwareTemplate(name, files), { lineWidth: 0 }));
  }
  return written;
}
