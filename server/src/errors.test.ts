import { createDb, users } from "@cluster-code/db";
import { describe, expect, it } from "vitest";
import { AppError, asUnavailable } from "./errors.js";

describe("asUnavailable", () => {
  it("names a database that cannot be reached as UNAVAILABLE, keeping the cause", async () => {
    // Nothing listens on port 1: node-postgres fails to connect, as during a Postgres restart.
    const handle = createDb({ url: "postgres://postgres@127.0.0.1:1/none", poolSize: 1 });
    const error = await handle.db
      .select()
      .from(users)
      .catch((e: unknown) => e);
    await handle.close();
    const unavailable = asUnavailable(error);
    expect(unavailable).toBeInstanceOf(AppError);
    expect(unavailable).toMatchObject({ code: "UNAVAILABLE", trpcCode: "SERVICE_UNAVAILABLE", cause: error });
  });

  it("leaves other errors alone", () => {
    expect(asUnavailable(new Error("syntax error at or near"))).toBeUndefined();
    expect(asUnavailable(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBeUndefined();
  });
});
