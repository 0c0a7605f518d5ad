import { describe, expect, it } from "vitest";
import { parseRoute, pathFor, type Route } from "./router";

describe("routes", () => {
  it("round-trips every route through its path, with opaque ids only", () => {
    const routes: Route[] = [
      { name: "home" },
      { name: "group", id: "R3JvdXA6MQ==" },
      { name: "users" },
      { name: "user", id: "VXNlcjoy" },
    ];
    for (const route of routes) expect(parseRoute(pathFor(route))).toEqual(route);
  });
  it("knows what it does not serve", () => {
    expect(parseRoute("/groups")).toEqual({ name: "notFound" });
    expect(parseRoute("/admin/users/1/2")).toEqual({ name: "notFound" });
  });
});
