import { dts } from "rollup-plugin-dts";

/** Peer dependencies: imported, never bundled. */
const peers = ["@trpc/client", "@trpc/server"];
const isPeer = (id) => peers.includes(id);

export default [
  {
    input: ".build/index.js",
    output: { file: "dist/index.js", format: "es" },
    external: isPeer,
  },
  {
    input: ".build/index.d.ts",
    output: { file: "dist/index.d.ts", format: "es" },
    external: isPeer,
    plugins: [dts({ tsconfig: "tsconfig.json", includeExternal: ["@cluster-code/server", "@cluster-code/db", "zod", "@trpc/server"] })],
  },
];
