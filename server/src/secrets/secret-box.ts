import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { EncryptionKey } from "../config/index.js";

const VERSION = "v1";
const IV_BYTES = 12;

/**
 * AES-256-GCM with key ids. An envelope is `v1:<keyId>:<iv>:<ciphertext>:<tag>` (base64url parts):
 * the first configured key encrypts, any configured key decrypts, so keys rotate without downtime.
 * `context` is bound as additional authenticated data, so a ciphertext cannot be moved to another
 * column and still decrypt.
 */
export function createSecretBox(keys: EncryptionKey[]) {
  const [current] = keys;
  if (!current) throw new Error("At least one encryption key is required");
  const byId = new Map(keys.map((k) => [k.id, k.key]));

  return {
    currentKeyId: current.id,

    encrypt(plaintext: string, context: string): string {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", current.key, iv);
      cipher.setAAD(Buffer.from(context));
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [VERSION, current.id, iv, ciphertext, cipher.getAuthTag()]
        .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
        .join(":");
    },

    decrypt(envelope: string, context: string): string {
      const [version, keyId, iv, ciphertext, tag] = envelope.split(":");
      if (version !== VERSION || !keyId || !iv || ciphertext === undefined || !tag) {
        throw new Error("Not an encrypted secret envelope");
      }
      const key = byId.get(keyId);
      if (!key) throw new Error(`Secret was encrypted with key "${keyId}", which is not in ENCRYPTION_KEYS`);
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, "base64url")),
        decipher.final(),
      ]).toString("utf8");
    },

    /** True when the envelope was sealed with a key other than the current one. */
    needsRotation(envelope: string): boolean {
      return envelope.split(":", 2)[1] !== current.id;
    },
  };
}

export type SecretBox = ReturnType<typeof createSecretBox>;
