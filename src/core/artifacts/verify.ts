import { createHash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";

/** Passes bytes through and fails the stream at its end if they do not hash to `expected`. */
export class HashVerifier extends Transform {
  private readonly hash = createHash("sha256");
  private bytes = 0;
  constructor(
    private readonly expected: string,
    private readonly label: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    const actual = this.hash.digest("hex");
    if (actual !== this.expected) {
      done(
        new Error(
          `${this.label}: content hash ${actual} does not match ${this.expected} (${this.bytes} bytes read): the stored blob is corrupt`,
        ),
      );
    } else {
      done();
    }
  }
}
