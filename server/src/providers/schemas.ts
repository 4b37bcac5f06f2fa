import { z } from "zod";

/**
 * A DevPod provider name. DevPod itself allows `^[a-z0-9-]{1,32}$`; a leading hyphen is refused as
 * well, so a name can never be read as a flag on the `devpod` command line.
 */
export const ZProviderName = z
  .string()
  .regex(/^[a-z0-9-]{1,32}$/, "must be 1-32 characters of a-z, 0-9 and -")
  .regex(/^[^-]/, "must not start with -");

/**
 * What `devpod provider add` takes: a built-in name (`docker`, `kubernetes`, `aws`, `ssh`), a URL,
 * a path, or GitHub shorthand (`owner/repo[@version]`). One command-line argument: no whitespace,
 * and no leading hyphen so it is never read as a flag.
 */
export const ZProviderSource = z
  .string()
  .min(1)
  .max(512)
  .regex(/^\S+$/, "must not contain whitespace")
  .regex(/^[^-]/, "must not start with -");

/** A DevPod option name, e.g. `AWS_REGION`. */
export const ZOptionKey = z
  .string()
  .max(64)
  .regex(/^[A-Z][A-Z0-9_]*$/, "must be an option name like AWS_REGION (A-Z, 0-9, _)");

const MAX_OPTIONS = 100;
const ZOptionValue = z.string().max(8192);
const ZSecretValue = ZOptionValue.min(1, "must not be empty (send null to remove a secret option)");
const atMostOptions = (record: Record<string, unknown>) => Object.keys(record).length <= MAX_OPTIONS;
const tooMany = `at most ${MAX_OPTIONS} options`;

export const ZOptions = z.record(ZOptionKey, ZOptionValue).refine(atMostOptions, tooMany);
export const ZSecretOptions = z.record(ZOptionKey, ZSecretValue).refine(atMostOptions, tooMany);
/** On update: a value sets or replaces a secret, `null` removes it, an absent key is kept. */
export const ZSecretOptionChanges = z
  .record(ZOptionKey, ZSecretValue.nullable())
  .refine(atMostOptions, tooMany);

const ZTitle = z.string().trim().min(1).max(200);
const ZIcon = z.string().trim().min(1).max(2048);
const ZId = z.number().int().positive();

/** A provider as every reply shows it: plain options, and only the names of the secret ones. */
export const ZProvider = z.object({
  id: z.number(),
  name: z.string(),
  title: z.string(),
  icon: z.string().nullable(),
  source: z.string(),
  options: z.record(z.string(), z.string()),
  secretOptionKeys: z.array(z.string()),
  machineTypeOption: z.string().nullable(),
  organizationId: z.number().nullable(),
  createdById: z.number().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type Provider = z.infer<typeof ZProvider>;

export const ZProviderCreateInput = z.strictObject({
  name: ZProviderName,
  /** Defaults to the name. */
  title: ZTitle.optional(),
  icon: ZIcon.nullish(),
  source: ZProviderSource,
  options: ZOptions.default({}),
  secretOptions: ZSecretOptions.default({}),
  machineTypeOption: ZOptionKey.nullish(),
});
export type ProviderCreateInput = z.infer<typeof ZProviderCreateInput>;

/** Absent fields are kept; `options`, when given, replaces the plain options as a whole. */
export const ZProviderUpdateInput = z.strictObject({
  id: ZId,
  name: ZProviderName.optional(),
  title: ZTitle.optional(),
  icon: ZIcon.nullish(),
  source: ZProviderSource.optional(),
  options: ZOptions.optional(),
  secretOptions: ZSecretOptionChanges.optional(),
  machineTypeOption: ZOptionKey.nullish(),
});
export type ProviderUpdateInput = z.infer<typeof ZProviderUpdateInput>;

export const ZProviderIdInput = z.object({ id: ZId });

/** What the DevPod driver needs to add and configure the provider; secrets decrypted. */
export interface DevpodProviderOptions {
  name: string;
  source: string;
  options: Record<string, string>;
  secretOptions: Record<string, string>;
  /** The option that carries a workspace's instance type, e.g. `AWS_INSTANCE_TYPE`. */
  machineTypeOption: string | null;
}
