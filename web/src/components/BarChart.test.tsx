// @vitest-environment jsdom
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { BarChart, segments } from "./BarChart";

describe("bar chart", () => {
  it("splits each bar by status and names its figures for screen readers", () => {
    const row = { label: "SQL Basics", notStarted: 1, inProgress: 1, completed: 2 };
    expect(segments(row).map((s) => [s.key, s.x, s.width])).toEqual([
      ["completed", 0, 50],
      ["inProgress", 50, 25],
      ["notStarted", 75, 25],
    ]);
    render(<BarChart title="Status per course" rows={[row]} />);
    expect(screen.getByRole("img", { name: "SQL Basics: 2 completed, 1 in progress, 1 not started" })).toBeTruthy();
  });
  it("draws nothing for a course nobody is enrolled in", () => {
    expect(segments({ label: "x", notStarted: 0, inProgress: 0, completed: 0 })).toEqual([]);
  });
});
