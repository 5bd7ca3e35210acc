/**
 * One publisher, many listeners in this process (the console's live streams). A listener
 * that throws does not stop the others. Across processes: the replicas issue's.
 */
export class Broadcast<T> {
  private readonly listeners = new Set<(e: T) => void>();

  subscribe(listener: (e: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(e: T): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // One broken stream must not stop the others.
      }
    }
  }
}
