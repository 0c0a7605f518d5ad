import { BarChart } from "../components/BarChart";
import { ConnectionPager, useListState } from "../components/Pager";
import { TableWrap } from "../components/TableWrap";
import { Empty, ErrorNote, Loading } from "../components/States";
import { formatDate, formatPercent } from "../format";
import { HomeQuery } from "../operations";
import { Link, pathFor } from "../router";
import { useQuery } from "../useQuery";

const PAGE = 10;

export function Home() {
  const list = useListState({});
  const { data, error, loading, reload } = useQuery(HomeQuery, { after: list.after });
  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!data) return <Loading what="your groups" />;
  const assignments = data.viewer?.analystAssignments ?? [];
  const endsOn = new Map(
    assignments.filter((a) => a.status === "ACTIVE").map((a) => [a.group?.id ?? "", a.expiresAt ?? null]),
  );
  // An ended assignment's group is hidden from the analyst; only the end date is shown, so it
  // can tell "my access ended" from "nothing was assigned".
  const ended = assignments.filter((a) => a.status === "EXPIRED");
  const groups = data.groups.edges.map((e) => e.node);
  return (
    <section aria-busy={loading}>
      <h1>Your groups</h1>
      {groups.length === 0 ? (
        <Empty>
          {ended.length > 0
            ? "No group is assigned to you now."
            : "No groups are assigned to you yet. An admin assigns groups under Users → Group analyst."}
        </Empty>
      ) : (
        groups.map((group) => {
          const ends = endsOn.get(group.id);
          return (
            <article key={group.id} className="card">
              <h2>
                <Link to={pathFor({ name: "group", id: group.id })}>{group.name}</Link>
              </h2>
              <p className="meta">
                {group.members.totalCount} members
                {ends ? ` · your access ends ${formatDate(ends)}` : ""}
              </p>
              {group.progressSummary.length === 0 ? (
                <Empty>No member of this group is enrolled in a course.</Empty>
              ) : (
                <>
                  <TableWrap label={`Progress per course in ${group.name}`}>
                    <table>
                      <caption className="sr-only">Progress per course in {group.name}</caption>
                      <thead>
                        <tr>
                          <th scope="col">Course</th>
                          <th scope="col">Enrolled</th>
                          <th scope="col">Not started</th>
                          <th scope="col">In progress</th>
                          <th scope="col">Completed</th>
                          <th scope="col">Average % completed</th>
                          <th scope="col">Completion rate</th>
                        </tr>
                      </thead>
                      <tbody>
                        {group.progressSummary.map((s) => (
                          <tr key={s.course.id}>
                            <th scope="row">{s.course.name}</th>
                            <td>{s.enrolled}</td>
                            <td>{s.notStarted}</td>
                            <td>{s.inProgress}</td>
                            <td>{s.completed}</td>
                            <td>{formatPercent(s.averagePercentCompleted)}</td>
                            <td>{formatPercent(s.completionRate)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </TableWrap>
                  <BarChart
                    title={`Members by status per course in ${group.name}`}
                    rows={group.progressSummary.map((s) => ({
                      label: s.course.name,
                      notStarted: s.notStarted,
                      inProgress: s.inProgress,
                      completed: s.completed,
                    }))}
                  />
                </>
              )}
            </article>
          );
        })
      )}
      {ended.length > 0 && (
        <aside className="card" aria-label="Ended access">
          <ul>
            {ended.map((a) => (
              <li key={a.id}>
                Your access to a group ended {formatDate(a.expiresAt)}; its data is no longer shown.
                Ask an admin if you still need it.
              </li>
            ))}
          </ul>
        </aside>
      )}
      {data.groups.totalCount > PAGE && (
        <ConnectionPager list={list} connection={data.groups} pageSize={PAGE} />
      )}
    </section>
  );
}
