import { Choice, nodeOptions } from "../components/Choice";
import { useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { Empty, ErrorNote, Loading } from "../components/States";
import { endOfLocalDay, formatDate, ROLE_LABELS, seatLimitExplanation, seatsText, type Seats } from "../format";
import type { Role } from "../gql/graphql";
import { AssignMutation, GroupChoicesQuery, SetRolesMutation, UnassignMutation, UserQuery } from "../operations";
import { mutate, useQuery } from "../useQuery";

const EDITABLE: Role[] = ["SITE_ADMIN", "GROUP_ANALYST", "STUDENT"];

type Tab = "roles" | "analyst";

export function AdminUser({ id }: { id: string }) {
  const [tab, setTab] = useState<Tab>("roles");
  const { data, error, reload } = useQuery(UserQuery, { id });
  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!data) return <Loading what="the user" />;
  const user = data.node && "roles" in data.node ? data.node : null;
  if (!user) return <Empty>This user does not exist.</Empty>;
  const seats = data.site?.groupAnalystSeats ?? null;
  return (
    <section>
      <h1>
        {user.firstName} {user.lastName}
      </h1>
      <p className="meta">
        {user.email}
        {user.company ? ` · ${user.company}` : ""}
      </p>
      <div role="tablist" aria-label="User settings" className="tabs">
        {(
          [
            ["roles", "User roles"],
            ["analyst", "Group analyst"],
          ] as const
        ).map(([value, label]) => (
          <button
            key={value}
            type="button"
            role="tab"
            id={`tab-${value}`}
            aria-selected={tab === value}
            aria-controls={`panel-${value}`}
            onClick={() => setTab(value)}
          >
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === "roles" ? (
          <RolesForm userId={user.id} roles={user.roles} seats={seats} plan={data.site?.plan} onSaved={reload} />
        ) : (
          <AnalystTab
            userId={user.id}
            isAnalyst={user.roles.includes("GROUP_ANALYST")}
            assignments={user.analystAssignments}
            onChanged={reload}
          />
        )}
      </div>
    </section>
  );
}

function RolesForm({
  userId,
  roles,
  seats,
  plan,
  onSaved,
}: {
  userId: string;
  roles: Role[];
  seats: Seats | null;
  plan: string | null | undefined;
  onSaved: () => void;
}) {
  const [chosen, setChosen] = useState<Set<Role>>(new Set(roles));
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  function toggle(role: Role) {
    const next = new Set(chosen);
    if (next.has(role)) next.delete(role);
    else next.add(role);
    setChosen(next);
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      await mutate(SetRolesMutation, { userId, roles: [...chosen] });
      setMessage({ kind: "ok", text: "Roles saved." });
      onSaved();
    } catch (caught) {
      const error = caught instanceof ApiError ? caught : null;
      const text =
        error?.code === "SEAT_LIMIT_REACHED"
          ? seatLimitExplanation(plan, seats)
          : (error?.message ?? "Saving failed.");
      setMessage({ kind: "error", text });
    } finally {
      setBusy(false);
    }
  }

  const owner = roles.includes("SITE_OWNER");
  return (
    <form onSubmit={save}>
      <fieldset disabled={owner || busy}>
        <legend>User roles</legend>
        {owner && <p>The site owner's roles cannot be changed.</p>}
        {EDITABLE.map((role) => (
          <label key={role} className="check">
            <input type="checkbox" checked={chosen.has(role)} onChange={() => toggle(role)} />
            {ROLE_LABELS[role]}
          </label>
        ))}
      </fieldset>
      {seats && <p className="meta">{seatsText(seats)}</p>}
      {message && (
        <p className={message.kind === "ok" ? "notice" : "error"} role={message.kind === "ok" ? "status" : "alert"}>
          {message.text}
        </p>
      )}
      <button type="submit" disabled={owner || busy}>
        Save roles
      </button>
    </form>
  );
}

type Assignment = {
  id: string;
  assignedAt: string;
  expiresAt?: string | null;
  group?: { id: string; name: string } | null;
};

function AnalystTab({
  userId,
  isAnalyst,
  assignments,
  onChanged,
}: {
  userId: string;
  isAnalyst: boolean;
  assignments: Assignment[];
  onChanged: () => void;
}) {
  const groups = useQuery(GroupChoicesQuery, { search: null });
  const [groupId, setGroupId] = useState("");
  const [endDate, setEndDate] = useState("");
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const now = Date.now();

  async function run(work: () => Promise<unknown>, done: string) {
    setMessage(null);
    try {
      await work();
      setMessage({ kind: "ok", text: done });
      onChanged();
    } catch (caught) {
      setMessage({ kind: "error", text: caught instanceof ApiError ? caught.message : "The change failed." });
    }
  }

  function assign(event: FormEvent) {
    event.preventDefault();
    const expiresAt = endDate ? endOfLocalDay(endDate) : null;
    const name = groups.data?.groups.edges.find((e) => e.node.id === groupId)?.node.name ?? "the group";
    void run(() => mutate(AssignMutation, { userId, groupId, expiresAt }), `Assigned to ${name}.`);
  }

  if (!isAnalyst) return <p>Give this user the Group Analyst role first (User roles tab).</p>;
  return (
    <>
      {assignments.length === 0 ? (
        <Empty>Not assigned to any group.</Empty>
      ) : (
        <ul className="assignments">
          {assignments.map((a) => {
            const ended = a.expiresAt != null && new Date(a.expiresAt).getTime() <= now;
            return (
              <li key={a.id}>
                <strong>{a.group?.name ?? "A deleted group"}</strong>{" "}
                <span className={ended ? "ended" : "meta"}>
                  {ended
                    ? `ended ${formatDate(a.expiresAt)}`
                    : a.expiresAt
                      ? `until ${formatDate(a.expiresAt)}`
                      : "no end date"}
                </span>
                {a.group && (
                  <button
                    type="button"
                    onClick={() =>
                      void run(
                        () => mutate(UnassignMutation, { userId, groupId: a.group!.id }),
                        `Unassigned from ${a.group!.name}.`,
                      )
                    }
                  >
                    Unassign<span className="sr-only"> {a.group.name}</span>
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <form onSubmit={assign} className="toolbar">
        <Choice
          required
          label="Group"
          value={groupId}
          none="Choose a group"
          options={nodeOptions(groups.data?.groups)}
          onChange={setGroupId}
        />
        <label>
          End date (optional)
          <input type="date" value={endDate} onChange={(e) => setEndDate(e.target.value)} />
        </label>
        <button type="submit">Assign group</button>
      </form>
      {message && (
        <p className={message.kind === "ok" ? "notice" : "error"} role={message.kind === "ok" ? "status" : "alert"}>
          {message.text}
        </p>
      )}
    </>
  );
}
