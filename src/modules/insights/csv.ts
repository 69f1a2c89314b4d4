import { csvCell } from '../audit/index.ts';
import type { CsvSection, Insights } from './insights.types.ts';

/** The columns of each CSV export: the same figures as the JSON answer, one row per line. */
const COLUMNS: { [S in CsvSection]: readonly string[] } = {
  templates: ['template_id', 'template_name', 'requests', 'approved', 'denied', 'approval_rate', 'decision_median_secs', 'decision_p90_secs', 'escalations', 'lapsed', 'grants', 'never_used', 'first_use_median_secs', 'used_secs', 'unused_secs'],
  grants: ['request_id', 'template_name', 'requester_email', 'activated_at', 'ends_at', 'first_used_at', 'last_used_at', 'time_to_first_use_secs', 'granted_secs', 'used_secs', 'used_share'],
  approvers: ['approver_id', 'email', 'name', 'decisions', 'approvals', 'denials', 'median_decide_secs', 'approvals_without_comment', 'rubber_stamps'],
  standing: ['template_name', 'claim', 'value', 'group_name', 'user_email'],
};

function rowsOf(section: CsvSection, insights: Insights): ReadonlyArray<Record<string, unknown>> {
  switch (section) {
    case 'templates':
      // The first line is every template together.
      return [{ template_id: '', template_name: 'All templates', ...insights.overall }, ...insights.templates];
    case 'grants':
      return insights.grants;
    case 'approvers':
      return insights.approvers;
    case 'standing':
      return insights.standing;
  }
}

/** One section as CSV (RFC 4180, CRLF), cells escaped as the audit export escapes them. */
export function insightsCsv(section: CsvSection, insights: Insights): string {
  const columns = COLUMNS[section];
  return [columns, ...rowsOf(section, insights).map((row) => columns.map((c) => row[c]))].map((cells) => cells.map(csvCell).join(',') + '\r\n').join('');
}
