import type { ReactNode } from 'react';

/**
 * A scrollable table with a caption for screen readers and one header per column. A table
 * of rows with buttons gets a last "Actions" column whose header is spoken, not shown.
 */
export function DataTable({ caption, columns, actions, className, children }: { caption: string; columns: readonly string[]; actions?: boolean; className?: string; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table className={className}>
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
            {actions && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
