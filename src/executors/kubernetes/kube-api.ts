/**
 * The part of the Kubernetes API the executor uses, over @kubernetes/client-node: Jobs (create, get,
 * list, watch, delete), Pods (list) and their logs, Secrets (create, delete). The verbs match the
 * Role in deploy/base/executor-rbac.yaml; the contract tests check both against a stand-in server.
 */
import { Writable } from "node:stream";
import * as k8s from "@kubernetes/client-node";

export type KubeJob = k8s.V1Job;
export type KubePod = k8s.V1Pod;

/** An API answer that is not 2xx, with Kubernetes' own reason and message. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

function apiError(error: unknown): Error {
  if (error instanceof k8s.ApiException) {
    const body = (typeof error.body === "string" ? safeJson(error.body) : error.body) as { message?: string } | null;
    return new KubeApiError(error.code, body?.message ?? `HTTP ${error.code}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw apiError(error);
  }
}

export class KubeApi {
  private readonly batch: k8s.BatchV1Api;
  private readonly core: k8s.CoreV1Api;

  constructor(private readonly config: k8s.KubeConfig) {
    this.batch = config.makeApiClient(k8s.BatchV1Api);
    this.core = config.makeApiClient(k8s.CoreV1Api);
  }

  /** In the cluster: the pod's service account; outside: KUBECONFIG or ~/.kube/config. */
  static fromDefault(): KubeApi {
    const config = new k8s.KubeConfig();
    config.loadFromDefault();
    return new KubeApi(config);
  }

  /** Where the API server is, or null when no configuration was found (the client's fallback, localhost:8080). */
  server(): string | null {
    const server = this.config.getCurrentCluster()?.server;
    return !server || server === "http://localhost:8080" ? null : server;
  }

  /** A server at `url` with a bearer token (tests: the stand-in). */
  static forServer(url: string, token = "stand-in"): KubeApi {
    const config = new k8s.KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: "c", server: url, skipTLSVerify: true }],
      users: [{ name: "u", token }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    return new KubeApi(config);
  }

  createJob(namespace: string, body: object): Promise<KubeJob> {
    return call(() => this.batch.createNamespacedJob({ namespace, body: body as k8s.V1Job }));
  }

  listJobs(namespace: string, labelSelector: string): Promise<k8s.V1JobList> {
    return call(() => this.batch.listNamespacedJob({ namespace, labelSelector }));
  }

  /** Foreground: the Job goes only after its pods, so a cancelled step's pod is stopped first. */
  async deleteJob(namespace: string, name: string): Promise<void> {
    await call(() => this.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: "Foreground" })).catch(
      (error: unknown) => {
        if (!(error instanceof KubeApiError && error.status === 404)) throw error;
      },
    );
  }

  createSecret(namespace: string, body: object): Promise<k8s.V1Secret> {
    return call(() => this.core.createNamespacedSecret({ namespace, body: body as k8s.V1Secret }));
  }

  async deleteSecret(namespace: string, name: string): Promise<void> {
    await call(() => this.core.deleteNamespacedSecret({ name, namespace })).catch((error: unknown) => {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error;
    });
  }

  listPods(namespace: string, labelSelector: string): Promise<k8s.V1PodList> {
    return call(() => this.core.listNamespacedPod({ namespace, labelSelector }));
  }

  /**
   * Watches Jobs matching `labelSelector` from `resourceVersion`; `onEvent` gets each one, `done`
   * once the stream ends (the server closed it, the network broke). Returns a stop.
   */
  async watchJobs(
    namespace: string,
    query: { labelSelector: string; resourceVersion?: string },
    onEvent: (type: string, job: KubeJob) => void,
    done: (error: unknown) => void,
  ): Promise<() => void> {
    const controller = await new k8s.Watch(this.config).watch(
      `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/jobs`,
      { ...query, allowWatchBookmarks: true },
      (type, object) => onEvent(type, object as KubeJob),
      done,
    );
    return () => controller.abort();
  }

  /** Follows a container's log; `onText` gets it as it comes. Resolves with a stop. */
  async followLog(
    namespace: string,
    pod: string,
    container: string,
    onText: (text: string) => void,
    done: (error: unknown) => void,
  ): Promise<() => void> {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        onText(chunk.toString("utf8"));
        callback();
      },
    });
    sink.on("finish", () => done(null));
    const controller = await new k8s.Log(this.config).log(namespace, pod, container, sink, { follow: true });
    return () => controller.abort();
  }
}
