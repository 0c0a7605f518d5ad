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
