/** One-time decision links (issue 15): Slack and the CLI send an approver to the decision page with one. */
export interface DecisionLinksTable {
  /** sha256 (base64url) of the token; the token itself is only in the link. */
  token_hash: string;
  /** The only user who may use it. */
  user_id: string;
  request_id: string;
  decision: 'approve' | 'deny' | 'revoke';
  /** The approval stage the decision is for (approve and deny); null for revoke. */
  stage: number | null;
  /** The decision's comment (approve, deny) or the revocation's reason. */
  comment: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}
