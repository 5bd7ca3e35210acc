/**
 * One publisher, many listeners (the console's live streams). A listener that throws does
 * not stop the others. Relayed over the replicas' bus, an event published in one process
 * reaches the listeners of every process.
 */
import type { Bus } from './replicas/bus.ts';

export class Broadcast<T> {
  private readonly listeners = new Set<(e: T) => void>();
  private relayed: { bus: Bus; topic: string } | null = null;

  subscribe(listener: (e: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(e: T): void {
    this.deliver(e);
    void this.relayed?.bus.publish(this.relayed.topic, e).catch(() => {});
  }

  /** Events travel to the other processes under `topic`, and theirs come here (as JSON: dates become strings). */
  relay(bus: Bus | null, topic: string): this {
    if (!bus) return this;
    this.relayed = { bus, topic };
    bus.subscribe(topic, (e) => this.deliver(e as T));
    return this;
  }

  private deliver(e: T): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // One broken stream must not stop the others.
      }
    }
  }
}
