/**
 * Artifacts in any S3-compatible store, content-addressed under `<prefix>/sha256/ab/cdef…`.
 * A blob is spooled to a local temp file while hashing (its key is its hash, known only at the end),
 * then uploaded in parts; S3 PUTs are atomic, so a reader never sees a partial object.
 */
import { createReadStream } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  CreateBucketCommand,
  HeadBucketCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { NotFoundError } from "../../core/errors.js";
import { assertSha256 } from "../../core/artifacts/paths.js";
import type { ArtifactStore, BlobInfo } from "../../core/artifacts/ports.js";
import { HashVerifier } from "../../core/artifacts/verify.js";
import { spoolToTempFile, sweepStaleParts } from "./spool.js";

export interface S3ArtifactStoreOptions {
  bucket: string;
  /** Key prefix without trailing slash (default ""). */
  prefix?: string;
  /** A non-AWS endpoint, e.g. http://127.0.0.1:9000 (default: AWS). */
  endpoint?: string;
  /** (default "us-east-1") */
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Create the bucket when it is missing (default false; tests and local stores turn it on). */
  createBucket?: boolean;
  /** Where uploads are spooled (default: the OS temp dir). */
  spoolDir?: string;
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NotFound" || e?.name === "NoSuchKey" || e?.$metadata?.httpStatusCode === 404;
}

export class S3ArtifactStore implements ArtifactStore {
  private constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly spoolDir: string,
  ) {}

  static async create(options: S3ArtifactStoreOptions): Promise<S3ArtifactStore> {
    const client = new S3Client({
      region: options.region ?? "us-east-1",
      endpoint: options.endpoint,
      forcePathStyle: Boolean(options.endpoint),
      credentials:
        options.accessKeyId && options.secretAccessKey
          ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
          : undefined,
      // Recent SDKs wrap streamed bodies in aws-chunked encoding with trailing checksums; S3-compatible
      // servers that do not understand it store the framing verbatim (100 000 bytes came back as
      // 100 045 from s3rver). Checksums only where the API requires them; we verify sha256 ourselves.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    if (options.createBucket) {
      try {
        await client.send(new HeadBucketCommand({ Bucket: options.bucket }));
      } catch {
        await client.send(new CreateBucketCommand({ Bucket: options.bucket }));
      }
    }
    const prefix = options.prefix ? `${options.prefix.replace(/\/+$/, "")}/` : "";
    const spoolDir = options.spoolDir ?? join(tmpdir(), "tandem-s3-spool");
    await sweepStaleParts(spoolDir);
    return new S3ArtifactStore(client, options.bucket, prefix, spoolDir);
  }

  private keyOf(sha256: string): string {
    assertSha256(sha256);
    return `${this.prefix}sha256/${sha256.slice(0, 2)}/${sha256.slice(2)}`;
  }

  async putBlob(data: Readable | Uint8Array | string, options?: { expectedSha256?: string }): Promise<BlobInfo> {
    const spooled = await spoolToTempFile(data, this.spoolDir, options?.expectedSha256);
    try {
      if (!(await this.statBlob(spooled.sha256))) {
        const upload = new Upload({
          client: this.client,
          params: {
            Bucket: this.bucket,
            Key: this.keyOf(spooled.sha256),
            Body: createReadStream(spooled.tempPath),
            ContentLength: spooled.size,
          },
        });
        await upload.done();
      }
    } finally {
      await rm(spooled.tempPath, { force: true });
    }
    return { sha256: spooled.sha256, size: spooled.size };
  }

  async getBlob(sha256: string): Promise<Readable> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
      const body = out.Body as Readable;
      return body.pipe(new HashVerifier(sha256, `blob ${sha256}`));
    } catch (error) {
      if (isNotFound(error)) throw new NotFoundError(`blob ${sha256} is not stored`);
      throw error;
    }
  }

  async statBlob(sha256: string): Promise<BlobInfo | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
      return { sha256, size: Number(head.ContentLength ?? 0) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async missingBlobs(sha256s: string[]): Promise<string[]> {
    const found = await Promise.all(sha256s.map(async (sha) => [sha, await this.statBlob(sha)] as const));
    return found.filter(([, info]) => !info).map(([sha]) => sha);
  }

  async *listBlobs(): AsyncIterable<BlobInfo> {
    let token: string | undefined;
    const base = `${this.prefix}sha256/`;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const rest = object.Key!.slice(base.length).replace("/", "");
        if (/^[0-9a-f]{64}$/.test(rest)) yield { sha256: rest, size: Number(object.Size ?? 0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async deleteBlob(sha256: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
  }

  /** For tests and shutdown. */
  destroy(): void {
    this.client.destroy();
  }
}
