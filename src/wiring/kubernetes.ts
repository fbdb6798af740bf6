/**
 * The Kubernetes executor of this server, when it has a cluster: in one (the pod's service account)
 * or through KUBECONFIG / ~/.kube/config. Steps reach the server's API through
 * TANDEM_K8S_SERVER_URL (in a cluster: the tandem-server Service of deploy/).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config.js";
import { ReportSigning } from "../executors/agent/report-signing.js";
import type { KubeApi } from "../executors/kubernetes/kube-api.js";
import type { KubernetesExecutor } from "../executors/kubernetes/kubernetes-executor.js";
import type { Services } from "../server/services.js";

const UNREACHABLE_HOSTS = new Set(["localhost", "0.0.0.0", "[::]", "[::1]"]);

const NO_CLUSTER = "no Kubernetes cluster is configured (not in a pod, no KUBECONFIG, no ~/.kube/config)";

/**
 * Whether the Kubernetes client would find a configuration (the places its `loadFromDefault` reads,
 * in its order). Checked first because the client is about 800 modules: every embedded command
 * builds the executors, and without a cluster none of them should pay for loading it.
 */
function kubeConfigPresent(): boolean {
  if (process.env.KUBECONFIG) return true;
  if (process.env.HOME && existsSync(join(process.env.HOME, ".kube", "config"))) return true;
  return existsSync("/var/run/secrets/kubernetes.io/serviceaccount/token");
}

/** The executor, or why this server has none. */
export async function wireKubernetesExecutor(
  config: Config,
  services: Pick<Services, "config">,
  reportKey: Buffer,
): Promise<KubernetesExecutor | string> {
  if (!kubeConfigPresent()) return NO_CLUSTER;
  const [{ KubeApi }, { KubernetesExecutor }] = await Promise.all([
    import("../executors/kubernetes/kube-api.js"),
    import("../executors/kubernetes/kubernetes-executor.js"),
  ]);
  let api: KubeApi;
  try {
    api = KubeApi.fromDefault();
  } catch (error) {
    return `its Kubernetes configuration could not be read: ${(error as Error).message}`;
  }
  if (!api.server()) return NO_CLUSTER;
  const k = config.executors.kubernetes;
  return new KubernetesExecutor({
    api,
    defaults: {
      namespace: k.namespace,
      serviceAccount: k.serviceAccount,
      agentCommand: k.agentCommand,
      ttlSecondsAfterFinished: k.ttlSecondsAfterFinished,
    },
    reports: new ReportSigning(reportKey),
    unschedulableGraceMs: k.unschedulableGraceS * 1000,
    serverUrl: k.serverUrl,
    problem() {
      const url = k.serverUrl ?? services.config.serverUrl;
      if (!url) return "the server's URL is not known: set TANDEM_K8S_SERVER_URL to an address step pods reach";
      const host = new URL(url).hostname;
      if (UNREACHABLE_HOSTS.has(host) || host.startsWith("127."))
        return `step pods cannot reach the server at ${url}: set TANDEM_K8S_SERVER_URL to an address they reach (the tandem-server Service)`;
      return null;
    },
  });
}
