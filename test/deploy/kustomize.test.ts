/**
 * deploy/: every kustomize overlay renders with `kubectl kustomize` (Debian's kubectl 1.20 in CI,
 * whose kustomize is v2.0.3; a newer one reads the same files), and every rendered object is one a
 * real API server accepts (published OpenAPI schemas, test/helpers/kubernetes-schema.ts), with the
 * shape the Kubernetes guide promises: two server replicas probed on /readyz and /healthz, serve
 * replicas under an autoscaler, and a least-privilege Role for the executor.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { systemRoutes } from "../../src/server/routes/system.js";
import { kubernetesProblems } from "../helpers/kubernetes-schema.js";

const deployDir = join(import.meta.dirname, "..", "..", "deploy");
const overlays = readdirSync(join(deployDir, "overlays"));

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
};

function kubectl(): string | null {
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
    return "kubectl";
  } catch {
    return null;
  }
}
const found = kubectl();
if (!found && process.env.CI) throw new Error("kubectl is missing: .ci/run installs Debian's kubernetes-client");
if (!found) console.warn("deploy tests skipped: no kubectl on PATH (apt-get install kubernetes-client)");

function render(overlay: string): K8sObject[] {
  const out = execFileSync("kubectl", ["kustomize", join(deployDir, "overlays", overlay)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

function one(objects: K8sObject[], kind: string, name: string): K8sObject {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!object) throw new Error(`no ${kind} ${name} among ${objects.map((o) => o.kind).join(", ")}`);
  return object;
}

describe("the schema check can fail", () => {
  it("rejects an unknown field and a wrong type, naming them", async () => {
    const job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "x" },
      spec: {
        backoffLimit: "0",
        template: { spec: { restartPolicy: "Never", containers: [{ name: "a", image: "b", resourcez: {} }] } },
      },
    };
    const problems = await kubernetesProblems(job);
    expect(problems.join("\n")).toContain('unknown field "spec.template.spec.containers[0].resourcez"');
    expect(problems.join("\n")).toContain("backoffLimit must be integer");
    expect(
      await kubernetesProblems({
        ...job,
        spec: {
          ...job.spec,
          backoffLimit: 0,
          template: { spec: { restartPolicy: "Never", containers: [{ name: "a", image: "b" }] } },
        },
      }),
    ).toEqual([]);
  });
});

describe.skipIf(!found).each(overlays)("deploy/overlays/%s", (overlay) => {
  const objects = found ? render(overlay) : [];

  it("renders objects a real API server accepts", async () => {
    expect(objects.length).toBeGreaterThanOrEqual(12);
    const problems = (await Promise.all(objects.map((o) => kubernetesProblems(o)))).flat();
    expect(problems).toEqual([]);
  });

  it("puts every object in the overlay's namespace, the RoleBinding's subjects too", () => {
    const namespaces = new Set(objects.map((o) => o.metadata.namespace));
    expect(namespaces.size).toBe(1);
    const [namespace] = [...namespaces];
    expect(namespace).toBeTruthy();
    // An API server refuses a ServiceAccount subject without a namespace (kustomize v2.0.3 does not fill it in).
    for (const subject of one(objects, "RoleBinding", "tandem-executor").subjects ?? [])
      expect(subject).toMatchObject({ kind: "ServiceAccount", namespace });
  });

  it("runs two or more servers, ready on /readyz and alive on /healthz (routes that exist)", () => {
    const server = one(objects, "Deployment", "tandem-server");
    expect(server.spec!.replicas).toBeGreaterThanOrEqual(2);
    const container = server.spec!.template.spec.containers[0];
    expect(container.args[0]).toBe("server");
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    const routes = systemRoutes.map((r) => r.url);
    expect(routes).toEqual(expect.arrayContaining(["/readyz", "/healthz"]));
    expect(server.spec!.template.spec.serviceAccountName).toBe("tandem-executor");
  });

  it("sizes the serve replicas with an autoscaler on their Deployment", () => {
    const serve = one(objects, "Deployment", "tandem-serve");
    expect(serve.spec!.template.spec.containers[0].args[0]).toBe("serve");
    const hpa = one(objects, "HorizontalPodAutoscaler", "tandem-serve");
    expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "tandem-serve" });
    expect(hpa.spec!.minReplicas).toBeLessThanOrEqual(hpa.spec!.maxReplicas);
  });

  it("gives the executor exactly what it uses and nothing cluster-wide", () => {
    expect(objects.some((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding")).toBe(false);
    const rules = one(objects, "Role", "tandem-executor").rules ?? [];
    const granted = rules.flatMap((r) =>
      r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g || "core"}/${res}:${v}`))),
    );
    expect(granted.sort()).toEqual(
      [
        "batch/jobs:create",
        "batch/jobs:get",
        "batch/jobs:list",
        "batch/jobs:watch",
        "batch/jobs:delete",
        "core/pods:get",
        "core/pods:list",
        "core/pods/log:get",
        "core/pods/log:list",
        "core/secrets:create",
        "core/secrets:get",
        "core/secrets:delete",
      ].sort(),
    );
    // Step pods get no API rights at all.
    expect(one(objects, "ServiceAccount", "tandem-step")).toMatchObject({ automountServiceAccountToken: false });
  });

  it("sets only variables Tandem reads (a misspelt one would be ignored without a word)", () => {
    const readers = ["src/config.ts", "src/config-executors.ts"]
      .map((f) => readFileSync(join(deployDir, "..", f), "utf8"))
      .join("\n");
    const config = one(objects, "ConfigMap", "tandem-config") as unknown as { data: Record<string, string> };
    const secret = one(objects, "Secret", "tandem-secrets") as unknown as { stringData: Record<string, string> };
    const names = [...Object.keys(config.data), ...Object.keys(secret.stringData)];
    // AWS_* are read by the S3 client's own configuration chain as well as by config.ts.
    expect(names.filter((n) => !readers.includes(`env.${n}`) && !readers.includes(`"${n}"`))).toEqual([]);
  });

  it("reads the database URL and the keys from the Secret, not the ConfigMap", () => {
    const config = one(objects, "ConfigMap", "tandem-config") as unknown as { data: Record<string, string> };
    for (const key of ["TANDEM_DATABASE_URL", "TANDEM_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"]) {
      expect(config.data).not.toHaveProperty(key);
      expect((one(objects, "Secret", "tandem-secrets") as unknown as { stringData: object }).stringData).toHaveProperty(
        key,
      );
    }
  });
});
