/**
 * The bytes of one uploaded file, copied into one buffer as they arrive.
 *
 * Node's HTTP parser hands the body over in pieces of up to 64 KB, each its own small allocation.
 * Kept in a list until the end (and then joined), every piece of a 30 MB upload survives the young
 * generation's collections and stays in the process's malloc heap until a full collection, and
 * the heap, grown by the whole upload, does not shrink afterwards (freed pieces lie between live
 * allocations). Copied here at once, a piece is garbage as soon as it is read, the young
 * generation's next collection frees it, and the next pieces reuse its memory: the heap grows by
 * what arrives between two such collections, not by the upload.
 *
 * The buffer itself is one large allocation (mapped apart from the heap, so it goes back to the
 * system when freed): the declared length when there is one (untouched pages cost nothing), else
 * 1 MB doubled as needed; never more than the limit.
 */

const INITIAL_BYTES = 1024 * 1024;

export class UploadBuffer {
  private buffer: Buffer;
  private used = 0;

  /** `expectedBytes`: at most this many will come (the request's Content-Length), when known. */
  constructor(
    private readonly limit: number,
    expectedBytes: number | null,
  ) {
    const first = expectedBytes !== null && Number.isFinite(expectedBytes) && expectedBytes > 0 ? expectedBytes : INITIAL_BYTES;
    this.buffer = Buffer.allocUnsafeSlow(Math.max(1, Math.min(first, limit)));
  }

  /** Bytes received so far. */
  get length(): number {
    return this.used;
  }

  /** Bytes reserved now. */
  get capacity(): number {
    return this.buffer.length;
  }

  append(chunk: Uint8Array): void {
    const needed = this.used + chunk.length;
    if (needed > this.buffer.length) {
      let size = this.buffer.length;
      while (size < needed) size *= 2;
      const grown = Buffer.allocUnsafeSlow(Math.max(needed, Math.min(size, this.limit)));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    this.buffer.set(chunk, this.used);
    this.used = needed;
  }

  /** The first `n` bytes received (a view, valid until the next append). */
  head(n: number): Buffer {
    return this.buffer.subarray(0, Math.min(n, this.used));
  }

  /**
   * The upload, without a copy: a view of what was received, at offset 0 of an ArrayBuffer that
   * is this upload's alone (so it can be moved to a worker). The ArrayBuffer may be longer than
   * the upload (a declared length counts the multipart framing too; a chunked upload's doubling):
   * pages never written cost nothing. This buffer holds nothing afterwards.
   */
  take(): Buffer {
    const taken = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.alloc(0);
    this.used = 0;
    return taken;
  }
}
