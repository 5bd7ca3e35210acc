/**
 * Messages between the 小安 processes on one PostgreSQL (replicas): a proactive message for a
 * citizen whose chat is open on another process, an inbox or desk event for the consoles open
 * there, "a knowledge release came into force". A bus carries a message to the OTHER
 * processes only: each publisher delivers to its own listeners itself, at once.
 *
 * Delivery is at most once and only to processes listening at that moment: what must not be
 * lost is in the database already (the transcript, pending notices, the case), and the bus
 * only tells a live stream sooner.
 */
export type BusHandler = (message: unknown) => void | Promise<void>;

export interface Bus {
  /** This process's name on the bus (messages it sent come back to nobody). */
  readonly replica: string;
  publish(topic: string, message: unknown): Promise<void>;
  subscribe(topic: string, handler: BusHandler): () => void;
  /** Told when the bus is back after an interruption: messages sent meanwhile were missed. */
  onResume(fn: () => void): void;
  close(): Promise<void>;
}

/** Subscriptions by topic, shared by the bus implementations. */
export class Topics {
  private readonly handlers = new Map<string, Set<BusHandler>>();

  subscribe(topic: string, handler: BusHandler): () => void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
    return () => {
      set!.delete(handler);
      if (!set!.size) this.handlers.delete(topic);
    };
  }

  /** Runs every handler of the topic; one that fails does not stop the others. */
  async dispatch(topic: string, message: unknown, onError: (e: unknown) => void): Promise<void> {
    for (const h of this.handlers.get(topic) ?? []) {
      try {
        await h(message);
      } catch (e) {
        onError(e);
      }
    }
  }
}
