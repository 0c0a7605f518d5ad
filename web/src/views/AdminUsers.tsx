import { useState, type FormEvent } from "react";
import { Pager, nextCursors } from "../components/Pager";
import { TableWrap } from "../components/TableWrap";
import { Empty, ErrorNote, Loading } from "../components/States";
import { ROLE_LABELS } from "../format";
import type { Role } from "../gql/graphql";
import { GroupChoicesQuery, UsersQuery } from "../operations";
import { Link, pathFor } from "../router";
import { useQuery } from "../useQuery";

const PAGE = 25;

type Filters = { role: Role | ""; groupId: string; search: string };

export function AdminUsers() {
  const [filters, setFilters] = useState<Filters>({ role: "", groupId: "", search: "" });
  const [searchText, setSearchText] = useState("");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const page = cursors.length - 1;
  const groups = useQuery(GroupChoicesQuery, { search: null });
  const { data, error, loading, reload } = useQuery(UsersQuery, {
    first: PAGE,
    after: cursors[page],
    filter: {
      role: filters.role || null,
      groupAnalystFor: filters.groupId || null,
      search: filters.search || null,
    },
  });

  function change(next: Partial<Filters>) {
    setFilters({ ...filters, ...next });
    setCursors([null]);
  }

  function submitSearch(event: FormEvent) {
    event.preventDefault();
    change({ search: searchText.trim() });
  }

  return (
    <section aria-busy={loading}>
      <h1>Users</h1>
      <div className="toolbar">
        <label>
          Role
          <select value={filters.role} onChange={(e) => change({ role: e.target.value as Filters["role"] })}>
            <option value="">Any role</option>
            {Object.entries(ROLE_LABELS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Group analyst for
          <select value={filters.groupId} onChange={(e) => change({ groupId: e.target.value })}>
            <option value="">Any group</option>
            {groups.data?.groups.edges.map(({ node }) => (
              <option key={node.id} value={node.id}>
                {node.name}
              </option>
            ))}
          </select>
        </label>
        <form role="search" onSubmit={submitSearch}>
          <label>
            Search name or email
            <input type="search" value={searchText} onChange={(e) => setSearchText(e.target.value)} />
          </label>
          <button type="submit">Search</button>
        </form>
      </div>
      {error ? (
        <ErrorNote error={error} retry={reload} />
      ) : !data ? (
        <Loading what="users" />
      ) : data.users.edges.length === 0 ? (
        <Empty>No user matches these filters.</Empty>
      ) : (
        <>
          <TableWrap label="Users">
            <table>
              <caption className="sr-only">Users</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Roles</th>
                </tr>
              </thead>
              <tbody>
                {data.users.edges.map(({ node }) => (
                  <tr key={node.id}>
                    <th scope="row">
                      <Link to={pathFor({ name: "user", id: node.id })}>
                        {node.firstName} {node.lastName}
                      </Link>
                    </th>
                    <td>{node.email ?? "—"}</td>
                    <td>{node.roles.map((r) => ROLE_LABELS[r]).join(", ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          <Pager
            page={page}
            total={data.users.totalCount}
            pageSize={PAGE}
            hasNext={data.users.pageInfo.hasNextPage}
            onPrevious={() => setCursors(cursors.slice(0, -1))}
            onNext={() => setCursors(nextCursors(cursors, data.users.pageInfo.endCursor))}
          />
        </>
      )}
    </section>
  );
}
