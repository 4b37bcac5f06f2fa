import type { SecretBox } from "../secrets/secret-box.js";

/** Bound into every provider secret envelope, so it decrypts only as a provider secret option. */
export const PROVIDER_SECRETS_CONTEXT = "providers.secret_options";

/** Plain values → a map of key → envelope, as stored in `providers.secret_options`. */
export function sealSecretOptions(secrets: SecretBox, plain: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(plain).map(([key, value]) => [key, secrets.encrypt(value, PROVIDER_SECRETS_CONTEXT)]),
  );
}

/** Applies an update: a value sets or replaces a key, `null` removes it, absent keys are kept. */
export function changeSecretOptions(
  secrets: SecretBox,
  sealed: Record<string, string>,
  changes: Record<string, string | null>,
): Record<string, string> {
  const kept = Object.entries(sealed).filter(([key]) => !Object.hasOwn(changes, key));
  const set = Object.entries(changes).filter((entry): entry is [string, string] => entry[1] !== null);
  return { ...Object.fromEntries(kept), ...sealSecretOptions(secrets, Object.fromEntries(set)) };
}

/** Envelopes → plain values; only the DevPod driver should need this. */
export function openSecretOptions(
  secrets: SecretBox,
  sealed: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(sealed).map(([key, envelope]) => [
      key,
      secrets.decrypt(envelope, PROVIDER_SECRETS_CONTEXT),
    ]),
  );
}
