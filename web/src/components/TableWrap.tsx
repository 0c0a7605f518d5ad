import type { ReactNode } from "react";

/** A table that may scroll sideways on a narrow screen: a labelled region the keyboard can
 * reach (Tab, then the arrow keys), so no column is out of reach. */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
