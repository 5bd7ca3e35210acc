/**
 * Proactive messages to citizens with an open chat (a satisfaction survey, a case update, an
 * agent's reply): channels subscribe per citizen; publishers do not care how the message
 * travels. With replicas the citizen's chat may be open on another process: the message goes
 * over the bus too, and when no chat of theirs is open here, the processes that have one say
 * so; without such an answer in a moment, nobody received it (the caller keeps it for later).
 */
import { randomUUID } from 'node:crypto';
import type { Reply } from './messages.ts';
import type { Bus } from './replicas/bus.ts';

type Listener = (replies: Reply[]) => void;

/** How long a publisher with no chat of the citizen's here waits to hear of one elsewhere. */
export const REMOTE_ANSWER_MS = 500;

interface Pushed {
  id: string;
  channel: string;
  userId: string;
  replies: Reply[];
  /** Whether the sender waits to hear who received it. */
  answer: boolean;
}

export class PushHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly waiting = new Map<string, (received: number) => void>();

  constructor(private readonly bus: Bus | null = null) {
    bus?.subscribe('push', (m) => this.fromElsewhere(m as Pushed));
    bus?.subscribe('push-received', (m) => {
      const { id, received } = m as { id: string; received: number };
      this.waiting.get(id)?.(received);
    });
  }

  subscribe(channel: string, userId: string, listener: Listener): () => void {
    const key = `${channel}\u0000${userId}`;
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (!set!.size) this.listeners.delete(key);
    };
  }

  /** How many open connections the citizen has in this process. */
  connections(channel: string, userId: string): number {
    return this.listeners.get(`${channel}\u0000${userId}`)?.size ?? 0;
  }

  /**
   * Delivers to every open connection of the citizen, here and on the other replicas;
   * resolves with how many received it here, or (none here) whether one elsewhere did.
   */
  async publish(channel: string, userId: string, replies: Reply[]): Promise<number> {
    const here = this.deliver(channel, userId, replies);
    if (!this.bus) return here;
    const id = randomUUID();
    const answered = here ? null : this.answerFor(id);
    await this.bus.publish('push', { id, channel, userId, replies, answer: !here } satisfies Pushed);
    return here || (await answered!);
  }

  private deliver(channel: string, userId: string, replies: Reply[]): number {
    const set = this.listeners.get(`${channel}\u0000${userId}`);
    for (const l of set ?? []) l(replies);
    return set?.size ?? 0;
  }

  private fromElsewhere(m: Pushed): void {
    const received = this.deliver(m.channel, m.userId, m.replies);
    if (received && m.answer) void this.bus!.publish('push-received', { id: m.id, received }).catch(() => {});
  }

  /** The first replica that received it, or 0 after REMOTE_ANSWER_MS. */
  private answerFor(id: string): Promise<number> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(0), REMOTE_ANSWER_MS);
      const done = (received: number) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(received);
      };
      this.waiting.set(id, done);
    });
  }
}
