import type { ServiceDeps } from "../../services/deps.js";
import type { Logger } from "../../services/ports.js";
import type { ChatIntake, RateLimit } from "./chat-intake.js";
import type { ChatStore } from "./chat-store.js";

/** What an adapter gets from the composition root: the core services and the chat layer's storage. */
export interface ChatContext {
  deps: ServiceDeps;
  store: ChatStore;
  logger: Logger;
  /** Durable intake of inbound chat actions (stored before the ack, run from the queue). */
  intake?: ChatIntake;
  /** Per-person limit on chat actions (SESAME_RATE_LIMIT). */
  rateLimit?: RateLimit;
}
