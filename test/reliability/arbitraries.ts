import fc from "fast-check";

/**
 * Hostile values for fuzzing: the edges of numbers and strings a schema or a database column may
 * mishandle, and shapes a parser may not expect.
 */

const edgeNumbers = [
  0,
  -0,
  -1,
  1,
  1.5,
  -1.5,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 63,
  1e21,
  1e308,
  -1e308,
  5e-324,
];

export const nastyNumber = fc.oneof(
  fc.constantFrom(...edgeNumbers),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const edgeStrings = [
  "",
  " ",
  "\t\n",
  "\u0000",
  "a\u0000b",
  "-rf",
  "--help",
  "../../../etc/passwd",
  "%",
  "_",
  "\\",
  "'; drop table users; --",
  '"',
  "$" + "{HOME}",
  "$(id)",
  "`id`",
  "\u202eevil",
  "\ufeff",
  "🙂",
  "👩‍👩‍👧‍👦",
  "NaN",
  "Infinity",
  "1",
  "-1",
  "1e309",
  "0x10",
  "null",
  "true",
  "__proto__",
  "constructor",
  "https://github.com/acme/app.git",
  "https://bob:hunter2@github.com/acme/app.git",
  "git@github.com:acme/app.git",
  "ssh://git@github.com:70000/acme/app.git",
  "file:///etc/passwd",
  "#ffffff",
  "docker",
  "running",
  "confirmed",
  "vscode",
  "workspace_1_status",
  "AWS_REGION",
  "x".repeat(201),
  "x".repeat(8193),
];

/** Strings as a client might send them: any well-formed Unicode, edge cases, long ones. */
export const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...edgeStrings) },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 100, maxLength: 3000 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((tail) => `https://github.com/${tail}`) },
);

/** Object keys: ordinary, reserved by JavaScript, or odd. */
export const nastyKey = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "toString",
    "hasOwnProperty",
    "",
    "id",
    "AWS_REGION",
    "a\u0000b",
    "0",
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }),
);

/** An array or object nested `depth` levels deep, built without recursion. */
export function nested(depth: number, kind: "array" | "object"): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = kind === "array" ? [value] : { a: value };
  return value;
}

/** Nesting a validator should walk without trouble. */
export const deepButReasonable = fc
  .tuple(fc.integer({ min: 10, max: 1000 }), fc.constantFrom("array" as const, "object" as const))
  .map(([depth, kind]) => nested(depth, kind));

const { value: nastyValueArb } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 4, arbitrary: nastyString },
    { weight: 3, arbitrary: nastyNumber },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.array(tie("value"), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(nastyKey, tie("value"), { maxKeys: 4 }) },
    { weight: 1, arbitrary: fc.array(fc.constant("t"), { minLength: 21, maxLength: 200 }) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 101, max: 400 })
        .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`K${i}`, "v"]))),
    },
    { weight: 1, arbitrary: deepButReasonable },
  ),
}));

/** Any value JSON can carry, biased towards the hostile ones. */
export const nastyValue: fc.Arbitrary<unknown> = nastyValueArb;

/** Arbitrary JSON, as a client ignoring the schema would send it. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.jsonValue({ maxDepth: 2, stringUnit: "binary" }),
  nastyValue,
);

export type Step = { op: "set"; path: string[]; value: unknown } | { op: "delete"; path: string[] };

/** Every path into `base` (objects only, two levels), plus a few names no schema has. */
export function pathsOf(base: Record<string, unknown>): string[][] {
  const paths: string[][] = [];
  for (const [key, value] of Object.entries(base)) {
    paths.push([key]);
    if (value && typeof value === "object" && !Array.isArray(value))
      for (const inner of Object.keys(value)) paths.push([key, inner]);
  }
  return paths;
}

export function applySteps(base: Record<string, unknown>, steps: Step[]): Record<string, unknown> {
  const copy = structuredClone(base);
  for (const step of steps) {
    let target = copy;
    for (const key of step.path.slice(0, -1)) {
      const next = target[key];
      if (!next || typeof next !== "object" || Array.isArray(next)) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    const last = step.path[step.path.length - 1] as string;
    if (step.op === "delete") delete target[last];
    // defineProperty: a key such as `__proto__` becomes an own field, as JSON.parse would make it.
    else
      Object.defineProperty(target, last, {
        value: step.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return copy;
}

/**
 * A valid input spoiled by one to three edits: a field set to a hostile value (ids mostly to ids
 * that exist, so the call gets past lookups), a field removed, or an unknown field added.
 */
export function mutationOf(base: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const paths = pathsOf(base);
  const anyPath = fc.oneof(
    { weight: 4, arbitrary: paths.length ? fc.constantFrom(...paths) : nastyKey.map((k) => [k]) },
    { weight: 1, arbitrary: nastyKey.map((key) => [key]) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...(paths.length ? paths : [["x"]])), nastyKey)
        .map(([p, k]) => [p[0] as string, k]),
    },
  );
  const idLike = fc.oneof(fc.integer({ min: 1, max: 6 }), nastyNumber);
  const step: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.tuple(anyPath, nastyValue, idLike).map(
        ([path, value, id]): Step => ({
          op: "set",
          path,
          value: /id$/i.test(path.at(-1) ?? "") ? id : value,
        }),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(anyPath, nastyValue).map(([path, value]): Step => ({ op: "set", path, value })),
    },
    { weight: 2, arbitrary: anyPath.map((path): Step => ({ op: "delete", path })) },
  );
  return fc.array(step, { minLength: 1, maxLength: 3 }).map((steps) => applySteps(base, steps));
}

/** A string with a lone UTF-16 surrogate somewhere: JSON can carry one (as `\udXXX`), UTF-8 cannot. */
export const withLoneSurrogate = fc
  .tuple(
    fc.string({ maxLength: 8 }),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
    fc.string({ maxLength: 8 }),
  )
  .map(([head, surrogate, tail]) => `${head}${surrogate}${tail}`);
