/**
 * The artifact store as a remote step sees it: the server's API, with the run's token, under
 * `/api/v1/projects/P/pipeline-runs/R/blobs`. The server lets a run's token read only blobs of that
 * run's inputs and outputs, and write only while the run is active: a step never holds the store's
 * own credentials.
 */
import { createHash } from "node:crypto";
import { Readable, Transform } from "node:stream";
import type { ArtifactStore, BlobInfo } from "../../core/artifacts/ports.js";

export class HttpRunArtifactStore implements ArtifactStore {
  private readonly base: string;

  constructor(
    url: string,
    private readonly token: string,
    project: string,
    runId: string,
  ) {
    this.base = `${url.replace(/\/+$/, "")}/api/v1/projects/${encodeURIComponent(project)}/pipeline-runs/${encodeURIComponent(runId)}/blobs`;
  }

  private async failed(res: Response, what: string): Promise<Error> {
    const text = await res.text().catch(() => "");
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      // not JSON
    }
    return new Error(`${what}: HTTP ${res.status}${message ? `: ${message}` : ""}`);
  }

  async putBlob(data: Readable | Uint8Array | string): Promise<BlobInfo> {
    const body = typeof data === "string" || data instanceof Uint8Array ? Buffer.from(data) : data;
    const res = await fetch(this.base, {
      method: "POST",
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/octet-stream" },
      body: body instanceof Readable ? (Readable.toWeb(body) as ReadableStream) : body,
      duplex: "half",
    } as RequestInit);
    if (!res.ok) throw await this.failed(res, "uploading an output");
    return (await res.json()) as BlobInfo;
  }

  async getBlob(sha256: string): Promise<Readable> {
    const res = await fetch(`${this.base}/${sha256}`, { headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok || !res.body) throw await this.failed(res, `reading input blob ${sha256.slice(0, 12)}`);
    // Verified as it streams, like the stores' own getBlob: a wrong byte fails the input.
    const hash = createHash("sha256");
    const verify = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
      flush(done) {
        const got = hash.digest("hex");
        done(got === sha256 ? null : new Error(`blob ${sha256.slice(0, 12)} arrived as ${got.slice(0, 12)}`));
      },
    });
    return Readable.fromWeb(res.body as import("node:stream/web").ReadableStream).pipe(verify);
  }

  statBlob(): Promise<BlobInfo | null> {
    return Promise.reject(new Error("a remote step cannot stat blobs"));
  }

  missingBlobs(): Promise<string[]> {
    return Promise.reject(new Error("a remote step cannot list blobs"));
  }

  // eslint-disable-next-line require-yield -- never lists: a step sees only its own run's blobs
  async *listBlobs(): AsyncIterable<BlobInfo> {
    throw new Error("a remote step cannot list blobs");
  }

  deleteBlob(): Promise<void> {
    return Promise.reject(new Error("a remote step cannot delete blobs"));
  }
}
