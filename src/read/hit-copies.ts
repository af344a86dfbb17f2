import { copy, type Serializer } from "./serializer.ts";

/**
 * Fresh copies of hits' values. The last decoded value of each key is kept, and while the store keeps returning the
 * same encoding, hits copy it instead of decoding again (a copy is several times cheaper than JSON.parse). Bounded
 * by entries and by the characters of encodings kept.
 */
export class HitCopies {
  private readonly decoded = new Map<string, { encoded: string; value: unknown }>();
  private chars = 0;

  constructor(
    private readonly serializer: Serializer,
    private readonly limits: { maxEntries: number; maxChars: number; maxTotalChars: number },
  ) {}

  /** A value of its own for this hit (throws when `encoded` cannot be decoded). */
  value(key: string, encoded: string): unknown {
    const known = this.decoded.get(key);
    if (known !== undefined && known.encoded === encoded) return copy(known.value);
    const value = this.serializer.decode(encoded);
    if (encoded.length <= this.limits.maxChars) {
      if (this.decoded.size >= this.limits.maxEntries || this.chars > this.limits.maxTotalChars) {
        this.decoded.clear();
        this.chars = 0;
      }
      this.decoded.set(key, { encoded, value: copy(value) });
      this.chars += encoded.length;
    }
    return value;
  }
}
