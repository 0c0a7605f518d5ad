import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { endedWith, isSubscription, subscriptionUrl } from "./fetcher";

describe("GraphiQL's fetcher", () => {
  it("opens subscriptions on the page's own origin, wss under https", () => {
    expect(subscriptionUrl({ protocol: "https:", host: "reports.example.com" })).toBe("wss://reports.example.com/graphql");
    expect(subscriptionUrl({ protocol: "http:", host: "127.0.0.1:8000" })).toBe("ws://127.0.0.1:8000/graphql");
  });

  it("sends only the subscription operation over the WebSocket", () => {
    const document = parse("query Q { viewer { id } } subscription S { progressChanged { id } }");
    expect(isSubscription(document, "S")).toBe(true);
    expect(isSubscription(document, "Q")).toBe(false);
    expect(isSubscription(parse("subscription { progressChanged { id } }"), null)).toBe(true);
    expect(isSubscription(undefined, "S")).toBe(false);
  });

  it("shows why the server ended a subscription", () => {
    const closed = endedWith({ code: 4403, reason: "The token is unknown, expired or revoked; log in again." });
    expect(closed.errors?.[0]).toEqual({
      message: "The server closed the subscription (4403): The token is unknown, expired or revoked; log in again.",
      extensions: { closeCode: 4403 },
    });
    const refused = [{ message: "Sign in first.", extensions: { code: "UNAUTHENTICATED" } }];
    expect(endedWith(refused)).toEqual({ errors: refused });
    expect(endedWith(new Event("error")).errors?.[0]?.message).toMatch(/Could not open/);
  });
});
