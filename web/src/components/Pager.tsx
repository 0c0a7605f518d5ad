import { useState } from "react";

// Keyset pages: "Next" follows endCursor; "Previous" returns along the cursors already seen.
export function Pager({
  page,
  total,
  pageSize,
  hasNext,
  onPrevious,
  onNext,
}: {
  page: number;
  total: number;
  pageSize: number;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
}) {
  const from = total === 0 ? 0 : page * pageSize + 1;
  const to = Math.min(total, (page + 1) * pageSize);
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" onClick={onPrevious} disabled={page === 0}>
        Previous
      </button>
      <span aria-live="polite">
        {from}–{to} of {total}
      </span>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next
      </button>
    </nav>
  );
}

/** The cursor stack behind a Pager: page n starts after cursors[n]. */
export function nextCursors(cursors: (string | null)[], endCursor: string | null | undefined): (string | null)[] {
  return endCursor ? [...cursors, endCursor] : cursors;
}

/** A list's filters and its cursor stack: changing a filter goes back to the first page. */
export function useListState<F extends object>(initial: F) {
  const [filters, setFilters] = useState<F>(initial);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const page = cursors.length - 1;
  return {
    filters,
    page,
    after: cursors[page],
    change(next: Partial<F>) {
      setFilters({ ...filters, ...next });
      setCursors([null]);
    },
    previous() {
      setCursors(cursors.slice(0, -1));
    },
    next(endCursor: string | null | undefined) {
      setCursors(nextCursors(cursors, endCursor));
    },
  };
}

export type ListState = ReturnType<typeof useListState>;

type Connection = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor?: string | null } };

/** The Pager of one connection, moving `list` along its cursors. */
export function ConnectionPager({ list, connection, pageSize }: { list: ListState; connection: Connection; pageSize: number }) {
  return (
    <Pager
      page={list.page}
      total={connection.totalCount}
      pageSize={pageSize}
      hasNext={connection.pageInfo.hasNextPage}
      onPrevious={list.previous}
      onNext={() => list.next(connection.pageInfo.endCursor)}
    />
  );
}
