import type { ServiceDeps } from "../../services/deps.js";
import type { Logger } from "../../services/ports.js";
import type { ChatStore } from "./chat-store.js";

/** What an adapter gets from the composition root: the core services and the chat layer's storage. */
export interface ChatContext {
  deps: ServiceDeps;
  store: ChatStore;
  logger: Logger;
}
