import { fileURLToPath } from "node:url";
import { dts } from "rollup-plugin-dts";

/** The peer dependencies: imported by the package, never bundled into it. */
const isPeer = (id) => id === "@trpc/client" || id === "@trpc/server";

const source = (path) => fileURLToPath(new URL(path, import.meta.url));

export default [
  // The JavaScript that `tsc` stripped into build/, in one file.
  {
    input: "build/index.js",
    output: { file: "dist/index.js", format: "es" },
    external: isPeer,
  },
  // One self-contained declaration file, made from the sources. It inlines the few types the SDK
  // takes from elsewhere: the server's event types, the database's workspace statuses, zod's issue
  // type in the error shape, and tRPC's `TrackedData` (exported only from a path tRPC asks not to
  // import). The server and database packages are mapped to their sources so that one program
  // compiles them all, instead of one program per file of a package in node_modules.
  {
    input: "src/index.ts",
    output: { file: "dist/index.d.ts", format: "es" },
    external: isPeer,
    plugins: [
      dts({
        tsconfig: "tsconfig.json",
        compilerOptions: {
          noCheck: false,
          noResolve: false,
          paths: {
            "@cluster-code/server": [source("../server/src/index.ts")],
            "@cluster-code/db": [source("../db/src/index.ts")],
          },
        },
        includeExternal: ["zod", "@trpc/server"],
      }),
    ],
  },
];
