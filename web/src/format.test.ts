import { describe, expect, it } from "vitest";
import { endOfLocalDay, formatDate, formatPercent, seatLimitExplanation, seatsText } from "./format";

describe("dates in the viewer's zone", () => {
  it("shows the day the moment falls on where the viewer is", () => {
    const iso = "2026-01-05T23:30:00Z";
    expect(formatDate(iso, "UTC")).toContain("5");
    expect(formatDate(iso, "Asia/Tokyo")).toContain("6");
    expect(formatDate(iso, "America/New_York")).toContain("5");
  });
  it("shows a dash for no date or a broken one", () => {
    expect(formatDate(null)).toBe("—");
    expect(formatDate("not a date")).toBe("—");
  });
  it("turns a date input into the end of that local day", () => {
    const iso = endOfLocalDay("2027-06-30")!;
    const back = new Date(iso);
    expect([back.getFullYear(), back.getMonth(), back.getDate(), back.getHours()]).toEqual([2027, 5, 30, 23]);
    expect(endOfLocalDay("30/06/2027")).toBeNull();
  });
});

describe("figures", () => {
  it("keeps one decimal", () => {
    expect(formatPercent(33.3)).toBe("33.3%");
    expect(formatPercent(100)).toBe("100.0%");
  });
  it("explains the seat limit in words", () => {
    const text = seatLimitExplanation("PRO_GROWTH", { used: 3, limit: 3 });
    expect(text).toContain("The PRO_GROWTH plan includes 3 Group Analyst seats, and all of them are in use");
    expect(text).toContain("remove the role from someone");
    expect(seatsText({ used: 3, limit: 3 })).toBe("3 of 3 Group Analyst seats used");
    expect(seatsText({ used: 7, limit: null })).toContain("unlimited");
  });
});
