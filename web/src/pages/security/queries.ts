import { useQuery, useQueryClient } from '@tanstack/react-query';
import { get } from '../../api/client.ts';
import type { Factor } from '../../api/mfa-types.ts';
import { keys } from '../../api/queries.ts';

const FACTORS_KEY = ['me', 'factors'] as const;
const RECOVERY_KEY = ['me', 'recovery-codes'] as const;

export const useFactors = () => useQuery({ queryKey: FACTORS_KEY, queryFn: async () => (await get<{ items: Factor[] }>('/me/factors')).items });
export const useRecoveryLeft = () => useQuery({ queryKey: RECOVERY_KEY, queryFn: async () => (await get<{ remaining: number }>('/me/recovery-codes')).remaining });

/** After a factor changed: the list, the codes left, and the session (the MFA policy's hold may have lifted). */
export function useFactorsChanged() {
  const client = useQueryClient();
  return async () => {
    await Promise.all([client.invalidateQueries({ queryKey: FACTORS_KEY }), client.invalidateQueries({ queryKey: RECOVERY_KEY }), client.invalidateQueries({ queryKey: keys.session })]);
  };
}
