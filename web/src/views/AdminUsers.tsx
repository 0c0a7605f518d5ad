import { Choice, SearchForm, nodeOptions } from "../components/Choice";
import { ConnectionPager, useListState } from "../components/Pager";
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
  const list = useListState<Filters>({ role: "", groupId: "", search: "" });
  const { filters, change } = list;
  const groups = useQuery(GroupChoicesQuery, { search: null });
  const { data, error, loading, reload } = useQuery(UsersQuery, {
    first: PAGE,
    after: list.after,
    filter: {
      role: filters.role || null,
      groupAnalystFor: filters.groupId || null,
      search: filters.search || null,
    },
  });

  return (
    <section aria-busy={loading}>
      <h1>Users</h1>
      <div className="toolbar">
        <Choice
          label="Role"
          value={filters.role}
          none="Any role"
          options={Object.entries(ROLE_LABELS) as [Role, string][]}
          onChange={(role) => change({ role })}
        />
        <Choice
          label="Group analyst for"
          value={filters.groupId}
          none="Any group"
          options={nodeOptions(groups.data?.groups)}
          onChange={(groupId) => change({ groupId })}
        />
        <SearchForm label="Search name or email" onSearch={(search) => change({ search })} />
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
          <ConnectionPager list={list} connection={data.users} pageSize={PAGE} />
        </>
      )}
    </section>
  );
}
