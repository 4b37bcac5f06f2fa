import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretBox } from "./secret-box.js";

const key = (id: string) => ({ id, key: randomBytes(32) });

describe("secret box", () => {
  it("round-trips and never shows the plaintext in the envelope", () => {
    const box = createSecretBox([key("a")]);
    const envelope = box.encrypt("hunter2-canary", "providers.secret_options");
    expect(envelope).not.toContain("hunter2");
    expect(envelope.startsWith("v1:a:")).toBe(true);
    expect(box.decrypt(envelope, "providers.secret_options")).toBe("hunter2-canary");
  });

  it("decrypts with an older key after rotation and encrypts with the first", () => {
    const old = key("old");
    const sealed = createSecretBox([old]).encrypt("s3cret", "ctx");
    const rotated = createSecretBox([key("new"), old]);
    expect(rotated.decrypt(sealed, "ctx")).toBe("s3cret");
    expect(rotated.needsRotation(sealed)).toBe(true);
    expect(rotated.needsRotation(rotated.encrypt("s3cret", "ctx"))).toBe(false);
  });

  it("refuses a tampered envelope, another context, and an unknown key", () => {
    const box = createSecretBox([key("a")]);
    const envelope = box.encrypt("value", "ctx");
    const parts = envelope.split(":");
    parts[3] = Buffer.from("other").toString("base64url");
    expect(() => box.decrypt(parts.join(":"), "ctx")).toThrow();
    expect(() => box.decrypt(envelope, "another.column")).toThrow();
    expect(() => createSecretBox([key("b")]).decrypt(envelope, "ctx")).toThrow(/key "a"/);
  });
});
