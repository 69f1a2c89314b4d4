import { useMutation, useQueryClient, type QueryKey } from '@tanstack/react-query';
import { del } from '../api/client.ts';
import { FormError } from './Field.tsx';

/**
 * A row's "Revoke"/"Remove" button: asks `confirm` first, then DELETEs `path` and refreshes
 * `queryKey`; busy while it runs, the API's error beside it.
 */
export function ConfirmDeleteButton({ path, queryKey, confirm, label, busyLabel, ariaLabel }: { path: string; queryKey: QueryKey; confirm: string; label: string; busyLabel: string; ariaLabel: string }) {
  const client = useQueryClient();
  const remove = useMutation({ mutationFn: () => del(path), onSuccess: () => client.invalidateQueries({ queryKey }) });
  return (
    <>
      <button
        type="button"
        className="btn btn-small btn-danger"
        disabled={remove.isPending}
        aria-label={ariaLabel}
        onClick={() => {
          if (window.confirm(confirm)) remove.mutate();
        }}
      >
        {remove.isPending ? busyLabel : label}
      </button>
      {remove.error && <FormError error={remove.error} />}
    </>
  );
}
