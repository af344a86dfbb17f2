/** The tag alphabet and the framing of invalidation messages (issue 8, item 5). */
import { describe, expect, it } from "vitest";
import { CacheConfigError } from "../../src/errors.ts";
import { parseInvalidation } from "../../src/stores/tiered-store.ts";
import { validTags } from "../../src/validate.ts";

describe("validTags", () => {
  it.each([["m\nn"], ["tab\there"], ["nul\u0000"], ["x".repeat(201)], [""]])("rejects %j naming the element", (tag) => {
    let error: unknown;
    try {
      validTags(["ok", tag], "models.User.tags");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CacheConfigError);
    expect((error as CacheConfigError).field).toBe("models.User.tags[1]");
  });

  it("accepts printable tags up to 200 characters, any script", () => {
    const tags = ["x".repeat(200), "tenant:42", "café ☕", "a,b"];
    expect(validTags(tags, "tags")).toEqual(tags);
  });
});

describe("parseInvalidation", () => {
  it("reads length-prefixed stamp keys, newlines and multi-byte characters included", () => {
    const stamps = ["{pc}:s:r:User:a\nb", "{pc}:s:t:café", "{pc}:s:x:1:2"];
    const message = `7@inst\n${stamps.map((stamp) => `${Buffer.byteLength(stamp)}:${stamp}`).join("")}`;
    expect(parseInvalidation(message)).toEqual({ id: "7@inst", stamps });
  });
});
