/**
 * Multipart artifact upload through the server, as MLflow's client does it with
 * MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true (mlflow-artifacts/mpu/create|complete|abort): `create`
 * hands out one URL per part; the client PUTs each part there WITHOUT its token, reads the ETag, and
 * `complete` joins the parts into the artifact.
 *
 * Because a part URL is the only credential its PUT carries, each is signed (HMAC-SHA256 over upload
 * id, part number and expiry with a key only this server holds), expires (default 1 h, like the
 * presigned S3 part URLs MLflow hands out), and names one part of one upload: a second PUT to the same
 * URL is refused, and so is a URL whose signature, part or upload does not match.
 *
 * Parts are stored as blobs (content-addressed; the ETag is the part's SHA-256) and joined by
 * streaming them into the run's artifact path. Uploads live in this process: behind several servers,
 * route mlflow-artifacts/mpu to one of them, or leave multipart off (the client then PUTs the file
 * whole).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { Readable } from "node:stream";
import type { ArtifactStore } from "../artifacts/ports.js";
import { safeRelativePath } from "../artifacts/paths.js";
import { InvalidInputError, NotFoundError, UnauthenticatedError } from "../errors.js";

export interface MultipartUploadsOptions {
  /** Where parts are kept until `complete` (as blobs). */
  artifacts: ArtifactStore;
  /** Writes the joined artifact (TrackingArtifacts.put: index, audit, run scoping). */
  put(actor: string, project: string, path: string, data: Readable): Promise<unknown>;
  /** How long a part URL is valid (default 1 h). An upload is forgotten one more period later. */
  urlTtlMs?: number;
  /** (default 10 000, S3's limit) */
  maxParts?: number;
  /** (default Date.now) */
  now?: () => number;
}

interface Part {
  state: "uploading" | "stored";
  sha256?: string;
}

interface Upload {
  id: string;
  actor: string;
  project: string;
  path: string;
  numParts: number;
  expiresAt: number;
  parts: Map<number, Part>;
}

export interface PartTicket {
  uploadId: string;
  partNumber: number;
  /** The signed token that goes into the part's URL. */
  token: string;
}

/** Who a verified part URL acts for, and what it may write. */
export interface PartClaim {
  uploadId: string;
  partNumber: number;
  actor: string;
  project: string;
}

const TOKEN = /^([0-9a-f]{32})\.(\d{1,5})\.(\d{13})\.([A-Za-z0-9_-]{43})$/;

export class MultipartUploads {
  private readonly key = randomBytes(32);
  private readonly uploads = new Map<string, Upload>();
  private readonly ttlMs: number;
  private readonly maxParts: number;
  private readonly now: () => number;

  constructor(private readonly options: MultipartUploadsOptions) {
    this.ttlMs = options.urlTtlMs ?? 3_600_000;
    this.maxParts = options.maxParts ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Starts an upload of `path` (checked like any artifact path) in `numParts` parts; one ticket per part. */
  create(input: { actor: string; project: string; path: string; numParts: number }): PartTicket[] {
    const path = safeRelativePath(input.path);
    if (!Number.isInteger(input.numParts) || input.numParts < 1 || input.numParts > this.maxParts)
      throw new InvalidInputError(`num_parts must be between 1 and ${this.maxParts}, got ${input.numParts}`);
    this.forgetExpired();
    const upload: Upload = {
      id: randomBytes(16).toString("hex"),
      actor: input.actor,
      project: input.project,
      path,
      numParts: input.numParts,
      expiresAt: this.now() + this.ttlMs,
      parts: new Map(),
    };
    this.uploads.set(upload.id, upload);
    return Array.from({ length: upload.numParts }, (_, i) => ({
      uploadId: upload.id,
      partNumber: i + 1,
      token: this.sign(upload.id, i + 1, upload.expiresAt),
    }));
  }

  /**
   * Checks a part URL's token and claims its part, so the URL works once. Throws UnauthenticatedError (401: the URL is the credential)
   * (forged, expired, reused, unknown upload) without saying more than which.
   */
  claim(token: string): PartClaim {
    const m = TOKEN.exec(token);
    if (!m) throw new UnauthenticatedError("this part URL is not one this server handed out");
    const [, uploadId, part, expires] = m as unknown as [string, string, string, string];
    const expected = this.sign(uploadId, Number(part), Number(expires));
    // Lengths first: timingSafeEqual throws on unequal lengths (a part number written "01").
    if (expected.length !== token.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(token)))
      throw new UnauthenticatedError("this part URL's signature does not match (altered or forged)");
    if (Number(expires) <= this.now())
      throw new UnauthenticatedError("this part URL has expired; start the upload again");
    const upload = this.uploads.get(uploadId);
    if (!upload) throw new UnauthenticatedError(`upload ${uploadId} was completed, aborted or forgotten`);
    const partNumber = Number(part);
    if (upload.parts.has(partNumber))
      throw new UnauthenticatedError(
        `part ${partNumber} of upload ${uploadId} was already sent; a part URL works once`,
      );
    upload.parts.set(partNumber, { state: "uploading" });
    return { uploadId, partNumber, actor: upload.actor, project: upload.project };
  }

  /** Stores a claimed part's bytes; answers its ETag (the part's SHA-256). */
  async putPart(claim: PartClaim, data: Readable | Uint8Array | string): Promise<string> {
    const part = this.uploads.get(claim.uploadId)?.parts.get(claim.partNumber);
    if (!part) throw new NotFoundError(`upload ${claim.uploadId} is gone`);
    try {
      const blob = await this.options.artifacts.putBlob(data);
      part.state = "stored";
      part.sha256 = blob.sha256;
      return blob.sha256;
    } catch (error) {
      // The bytes never arrived whole: the same URL may be tried again.
      this.uploads.get(claim.uploadId)?.parts.delete(claim.partNumber);
      throw error;
    }
  }

  /** Joins the parts (all of them, each with the ETag its PUT answered) into the artifact at the upload's path. */
  async complete(input: {
    actor: string;
    project: string;
    path: string;
    uploadId: string;
    parts: Array<{ partNumber: number; etag: string }>;
  }): Promise<void> {
    const upload = this.uploadFor(input.project, input.path, input.uploadId);
    const given = new Map(input.parts.map((p) => [p.partNumber, p.etag.replace(/^"|"$/g, "")]));
    const blobs: string[] = [];
    for (let n = 1; n <= upload.numParts; n++) {
      const part = upload.parts.get(n);
      if (part?.state !== "stored" || !part.sha256)
        throw new InvalidInputError(`part ${n} of ${upload.numParts} of upload ${upload.id} was not uploaded`);
      if (given.has(n) && given.get(n) !== part.sha256)
        throw new InvalidInputError(`part ${n}: etag ${given.get(n)} is not the ETag its upload answered`);
      blobs.push(part.sha256);
    }
    if (given.size !== upload.numParts || [...given.keys()].some((n) => n < 1 || n > upload.numParts))
      throw new InvalidInputError(
        `complete lists parts ${[...given.keys()].join(", ")}; the upload has 1..${upload.numParts}`,
      );
    this.uploads.delete(upload.id);
    const { artifacts } = this.options;
    const joined = Readable.from(
      (async function* () {
        for (const sha256 of blobs) yield* await artifacts.getBlob(sha256);
      })(),
    );
    await this.options.put(input.actor, input.project, upload.path, joined);
  }

  /** Forgets an upload; its stored parts are left to the garbage collector. */
  abort(input: { project: string; path: string; uploadId: string }): void {
    this.uploads.delete(this.uploadFor(input.project, input.path, input.uploadId).id);
  }

  /** Parts of unfinished uploads: the garbage collector must keep them (a reference check). */
  inFlightBlobs(): Set<string> {
    const out = new Set<string>();
    for (const u of this.uploads.values()) for (const p of u.parts.values()) if (p.sha256) out.add(p.sha256);
    return out;
  }

  private uploadFor(project: string, rawPath: string, uploadId: string): Upload {
    const upload = this.uploads.get(uploadId);
    // Another project's upload is reported as unknown, like any id the caller may not see.
    if (!upload || upload.project !== project) throw new NotFoundError(`no multipart upload ${uploadId}`);
    if (upload.path !== safeRelativePath(rawPath))
      throw new InvalidInputError(`upload ${uploadId} is for ${upload.path}, not ${rawPath}`);
    return upload;
  }

  private sign(uploadId: string, part: number, expiresAt: number): string {
    const payload = `${uploadId}.${part}.${expiresAt}`;
    return `${payload}.${createHmac("sha256", this.key).update(payload).digest("base64url")}`;
  }

  private forgetExpired(): void {
    const cutoff = this.now() - this.ttlMs;
    for (const [id, u] of this.uploads) if (u.expiresAt < cutoff) this.uploads.delete(id);
  }
}
