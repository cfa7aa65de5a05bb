/**
 * A policy with one low-risk `noop` resource, `app-db`, that alice may request (bob approves) and
 * that is approved at once with `reason`: for tests that need live grants, not approvals.
 */
export function autoApprovePolicy(reason: string): string {
  return `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
connectors:
  target: { type: noop }
resources:
  app-db: { connector: target, risk: low }
policies:
  - id: app
    resources: [app-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 3h }
    reason: { required: false }
    approvers: { users: [bob] }
    autoApprove: [{ reason: ${JSON.stringify(reason)}, resourceRisk: low }]
`;
}
