import { useState } from "react";
import { ApiError, request } from "../api";
import { Choice, SearchForm } from "../components/Choice";
import { ConnectionPager, useListState } from "../components/Pager";
import { TableWrap } from "../components/TableWrap";
import { Empty, ErrorNote, Loading } from "../components/States";
import { formatDate, formatPercent, STATUS_LABELS, viewerTimeZone } from "../format";
import type { ExportFormat, ProgressStatus } from "../gql/graphql";
import { ExportUrlQuery, GroupQuery } from "../operations";
import { useQuery } from "../useQuery";

const PAGE = 25;

type Filters = { courseId: string; status: ProgressStatus | ""; search: string };

export function GroupPage({ id }: { id: string }) {
  const list = useListState<Filters>({ courseId: "", status: "", search: "" });
  const { filters, change } = list;
  const [exporting, setExporting] = useState<ExportFormat | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  const filter = {
    courseIds: filters.courseId ? [filters.courseId] : null,
    status: filters.status || null,
    search: filters.search || null,
  };
  const { data, error, loading, reload } = useQuery(GroupQuery, { id, first: PAGE, after: list.after, filter });

  async function download(format: ExportFormat) {
    setExporting(format);
    setExportError(null);
    try {
      const { progressExportUrl } = await request(ExportUrlQuery, {
        groupIds: [id],
        courseIds: filter.courseIds,
        status: filter.status,
        format,
        timeZone: viewerTimeZone(),
      });
      // A signed, short-lived link: the browser downloads it without our token.
      const link = document.createElement("a");
      link.href = progressExportUrl;
      link.rel = "noopener";
      document.body.appendChild(link);
      link.click();
      link.remove();
    } catch (caught) {
      setExportError(caught instanceof ApiError ? caught.message : "The export failed.");
    } finally {
      setExporting(null);
    }
  }

  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!data) return <Loading what="the group" />;
  const group = data.node && "progress" in data.node ? data.node : null;
  if (!group) return <Empty>This group does not exist or is not assigned to you.</Empty>;
  const rows = group.progress.edges.map((e) => e.node);
  const courses = group.progressSummary.map((s) => s.course);
  return (
    <section aria-busy={loading}>
      <h1>{group.name}</h1>
      <div className="toolbar">
        <Choice
          label="Course"
          value={filters.courseId}
          none="All courses"
          options={courses.map((c): [string, string] => [c.id, c.name])}
          onChange={(courseId) => change({ courseId })}
        />
        <Choice
          label="Status"
          value={filters.status}
          none="Any status"
          options={Object.entries(STATUS_LABELS) as [ProgressStatus, string][]}
          onChange={(status) => change({ status })}
        />
        <SearchForm label="Search name or email" onSearch={(search) => change({ search })} />
        <div className="exports" role="group" aria-label="Export">
          <button type="button" onClick={() => download("CSV")} disabled={exporting !== null}>
            {exporting === "CSV" ? "Preparing…" : "Export CSV"}
          </button>
          <button type="button" onClick={() => download("XLSX")} disabled={exporting !== null}>
            {exporting === "XLSX" ? "Preparing…" : "Export Excel"}
          </button>
        </div>
      </div>
      {exportError && (
        <p className="error" role="alert">
          {exportError}
        </p>
      )}
      {rows.length === 0 ? (
        <Empty>No member matches these filters.</Empty>
      ) : (
        <TableWrap label={`Members of ${group.name}`}>
          <table className="cards">
            <caption className="sr-only">Members of {group.name} and their progress per course</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Course</th>
                <th scope="col">Status</th>
                <th scope="col">% Viewed</th>
                <th scope="col">% Completed</th>
                <th scope="col">Completed</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id}>
                  <th scope="row">
                    {row.student.firstName} {row.student.lastName}
                  </th>
                  <td data-label="Email">{row.student.email ?? "—"}</td>
                  <td data-label="Course">{row.course.name}</td>
                  <td data-label="Status">{STATUS_LABELS[row.progress.status]}</td>
                  <td data-label="% Viewed">{formatPercent(row.progress.percentViewed)}</td>
                  <td data-label="% Completed">{formatPercent(row.progress.percentCompleted)}</td>
                  <td data-label="Completed">{formatDate(row.progress.completedAt)}</td>
                  <td data-label="Expires">{formatDate(row.progress.expiresAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <ConnectionPager list={list} connection={group.progress} pageSize={PAGE} />
      <p className="hint">Dates are shown in your time zone ({viewerTimeZone()}); exports use it too.</p>
    </section>
  );
}
