import type { RequestRow } from "../../domain/access-request.js";
import type { GrantRow } from "../../domain/grant.js";
import type { ServiceDeps } from "../../services/deps.js";
import type { Card } from "./card-model.js";
import { approvalCard, grantCard, myRequestCard, pendingApprovers, reviewers } from "./request-cards.js";

/** One person's view (Slack App Home, `list` in both platforms): their requests, their grants, what waits for them. */

export interface Overview {
  myRequests: Card[];
  myGrants: Card[];
  awaitingMe: Card[];
  /** Break-glass access this person may review and nobody has yet. */
  toReview: Card[];
}

/** How far each list goes; the platforms cap messages (Slack: 100 blocks on App Home). */
export const OVERVIEW_LIMIT = 10;

export async function maxTotalFor(deps: ServiceDeps, grant: GrantRow): Promise<number> {
  const request = await deps.store.getRequest(grant.requestId);
  return request?.snapshot.extension.maxTotalSeconds ?? 0;
}

export async function overviewFor(deps: ServiceDeps, identityId: string): Promise<Overview> {
  const book = deps.policy();
  const [mine, grants, awaiting, unreviewed] = await Promise.all([
    deps.store.listRequests({ requesterId: identityId, status: ["pending"], limit: OVERVIEW_LIMIT }),
    deps.store.listGrants({ subjectId: identityId, status: ["scheduled", "active"], limit: OVERVIEW_LIMIT }),
    deps.store.listRequests({ approverId: identityId, status: ["pending"], limit: 100 }),
    deps.store.listRequests({ unreviewedBreakGlass: true, limit: 200 }),
  ]);
  const waitingForMe = (request: RequestRow) => pendingApprovers(request).includes(identityId);
  return {
    myRequests: mine.map((request) => myRequestCard(book, request)),
    myGrants: await Promise.all(grants.map(async (grant) => grantCard(book, grant, await maxTotalFor(deps, grant)))),
    awaitingMe: awaiting
      .filter(waitingForMe)
      .slice(0, OVERVIEW_LIMIT)
      .map((request) => approvalCard(book, request)),
    toReview: unreviewed
      .filter((request) => reviewers(request).includes(identityId))
      .slice(0, OVERVIEW_LIMIT)
      .map((request) => approvalCard(book, request)),
  };
}
