/** One audit event as a use case records it; storage adds the time and chains it. */
export interface AuditInput {
  type: string;
  actorId?: string | null;
  requestId?: string | null;
  grantId?: string | null;
  data?: Record<string, unknown>;
}
