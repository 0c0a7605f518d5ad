// One stacked bar per course (completed / in progress / not started), drawn in SVG; each bar
// carries its figures as its accessible name, so the chart reads the same without sight.
import { STATUS_LABELS } from "../format";

export type ChartRow = {
  label: string;
  notStarted: number;
  inProgress: number;
  completed: number;
};

const KEYS = ["completed", "inProgress", "notStarted"] as const;
const COLOURS = { completed: "#1f7a4d", inProgress: "#b07d00", notStarted: "#aab4be" } as const;
const LABELS = {
  completed: STATUS_LABELS.COMPLETED,
  inProgress: STATUS_LABELS.IN_PROGRESS,
  notStarted: STATUS_LABELS.NOT_STARTED,
} as const;

export function describe(row: ChartRow): string {
  return `${row.label}: ${row.completed} completed, ${row.inProgress} in progress, ${row.notStarted} not started`;
}

/** Each segment's x and width on a 0..100 scale; an empty row draws nothing. */
export function segments(row: ChartRow): { key: (typeof KEYS)[number]; x: number; width: number }[] {
  const total = row.notStarted + row.inProgress + row.completed;
  if (total === 0) return [];
  let x = 0;
  return KEYS.map((key) => {
    const width = (row[key] / total) * 100;
    const segment = { key, x, width };
    x += width;
    return segment;
  });
}

export function BarChart({ title, rows }: { title: string; rows: ChartRow[] }) {
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <ul>
        {rows.map((row) => (
          <li key={row.label}>
            <span className="chart-label">{row.label}</span>
            <svg role="img" aria-label={describe(row)} viewBox="0 0 100 10" preserveAspectRatio="none">
              <rect x="0" y="0" width="100" height="10" fill="#eef1f4" />
              {segments(row).map((s) => (
                <rect key={s.key} x={s.x} y="0" width={s.width} height="10" fill={COLOURS[s.key]} />
              ))}
            </svg>
          </li>
        ))}
      </ul>
      <p className="legend" aria-hidden="true">
        {KEYS.map((key) => (
          <span key={key}>
            <i style={{ background: COLOURS[key] }} /> {LABELS[key]}
          </span>
        ))}
      </p>
    </figure>
  );
}
