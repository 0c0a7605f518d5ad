import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildSchema, parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import { STARTER_QUERY } from "./starter";

describe("GraphiQL's starter query", () => {
  it("is valid against the API's schema and says how to send a token", () => {
    const schema = buildSchema(readFileSync(resolve(import.meta.dirname, "../../../schema.graphql"), "utf8"));
    expect(validate(schema, parse(STARTER_QUERY))).toEqual([]);
    expect(STARTER_QUERY).toContain('{"Authorization": "Bearer ga_..."}');
  });
});
