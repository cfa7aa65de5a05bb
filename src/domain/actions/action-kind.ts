/**
 * What kinds of one-off action Sesame runs, and the classes each kind's classifier sorts an action
 * into. The kind is implied by the resource's connector: one SQL statement on `postgres`/`mysql`,
 * one of a fixed set of Kubernetes operations on `kubernetes`, one command forwarded to the user's
 * runner through `webhook`. `refused` belongs to every kind: what Sesame never runs, whatever the
 * policy says.
 */

export const ACTION_KINDS = ["sql", "kubernetes", "command"] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export const ACTION_CLASSES = [
  "read",
  "write",
  "unbounded_write",
  "ddl",
  "restart",
  "scale",
  "delete",
  "command",
  "refused",
] as const;
export type ActionClass = (typeof ACTION_CLASSES)[number];
/** The classes a policy may rule on (`refused` is Sesame's own verdict, not the policy's). */
export type RuledActionClass = Exclude<ActionClass, "refused">;

export const CLASSES_OF_KIND: Readonly<Record<ActionKind, readonly RuledActionClass[]>> = {
  sql: ["read", "write", "unbounded_write", "ddl"],
  kubernetes: ["restart", "scale", "delete"],
  command: ["command"],
};

/** A classifier's verdict on one action text. */
export interface ActionClassification {
  class: ActionClass;
  /** Why, in words shown on cards and in the API. */
  why: string;
}

/** The kind of action a connector type runs, or null when it runs none. */
export function actionKindOfConnector(connectorType: string): ActionKind | null {
  switch (connectorType) {
    case "postgres":
    case "mysql":
      return "sql";
    case "kubernetes":
      return "kubernetes";
    case "webhook":
      return "command";
    default:
      return null;
  }
}

/**
 * The kind a resource's actions are: its connector's, or for the `noop` stand-in (which runs
 * nothing, in tests and demos) the first kind the block names, SQL when it names none.
 */
export function actionKindOf(connectorType: string, kinds: readonly ActionKind[] | undefined): ActionKind | null {
  if (connectorType === "noop") return kinds?.[0] ?? "sql";
  return actionKindOfConnector(connectorType);
}

/** What one action of this kind is, in the words of cards and help ("the exact … that will run once"). */
export function describeKind(kind: ActionKind): string {
  switch (kind) {
    case "sql":
      return "SQL";
    case "kubernetes":
      return "Kubernetes operation";
    case "command":
      return "command";
  }
}
