/**
 * The only module that touches botkit and botbuilder. Botkit runs each turn: our adapter
 * turns a neutral Inbound into an Activity, botkit's interrupts and event handlers
 * dispatch it, and what the bot "says" is collected back as neutral replies. Botkit and
 * Bot Framework are unmaintained: keeping them here keeps the exit path cheap.
 */
import { Botkit, type BotWorker, type BotkitMessage } from 'botkit';
import {
  ActivityTypes,
  BotAdapter,
  type Storage,
  type StoreItems,
  TurnContext,
  type Activity,
  type ConversationReference,
  type ResourceResponse,
} from 'botbuilder';
import type { Inbound, Reply } from './messages.ts';

const OUTBOX = Symbol('xiaoan.outbox');
const INBOUND = 'xiaoanInbound';
const REPLY = 'xiaoanReply';

export type TurnHandler = (inbound: Inbound) => Promise<Reply[]>;

/** Collects what the bot sends during a turn instead of posting it anywhere. */
class CollectingAdapter extends BotAdapter {
  async sendActivities(context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    const outbox = context.turnState.get(OUTBOX) as Reply[];
    for (const a of activities) {
      const reply = (a.channelData as Record<string, unknown> | undefined)?.[REPLY] as Reply | undefined;
      if (reply) outbox.push(reply);
      else if (a.text) outbox.push({ type: 'text', text: a.text });
    }
    return activities.map((_, i) => ({ id: String(i) }));
  }

  async updateActivity(): Promise<void> {
    throw new Error('updating a sent message is not supported');
  }

  async deleteActivity(): Promise<void> {
    throw new Error('deleting a sent message is not supported');
  }

  async continueConversation(reference: Partial<ConversationReference>, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    const context = new TurnContext(this, TurnContext.applyConversationReference({ type: ActivityTypes.Event, name: 'continue' }, reference, true));
    context.turnState.set(OUTBOX, []);
    await this.runMiddleware(context, logic);
  }

  async run(inbound: Inbound, logic: (context: TurnContext) => Promise<void>): Promise<Reply[]> {
    const activity: Partial<Activity> = {
      type: inbound.kind === 'event' ? ActivityTypes.Event : ActivityTypes.Message,
      name: inbound.event,
      text: inbound.text ?? '',
      channelId: inbound.channel,
      from: { id: inbound.userId, name: inbound.userId },
      recipient: { id: 'xiaoan', name: '小安' },
      conversation: { id: `${inbound.channel}:${inbound.userId}`, isGroup: false, conversationType: 'personal', name: '' },
      channelData: { [INBOUND]: inbound },
      timestamp: new Date(),
    };
    const context = new TurnContext(this, activity);
    const outbox: Reply[] = [];
    context.turnState.set(OUTBOX, outbox);
    await this.runMiddleware(context, logic);
    return outbox;
  }
}

/**
 * Botkit's state storage that keeps nothing between turns: botkit's dialog state lives only
 * for the turn (our store keeps the conversation). Its MemoryStorage kept every citizen's
 * entry for the life of the process.
 */
class PerTurnStorage implements Storage {
  async read(): Promise<StoreItems> {
    return {};
  }
  async write(): Promise<void> {}
  async delete(): Promise<void> {}
}

export class BotkitEngine {
  private readonly adapter = new CollectingAdapter();
  private readonly controller: Botkit;

  constructor(handler: TurnHandler) {
    this.controller = new Botkit({
      adapter: this.adapter,
      disable_webserver: true,
      disable_console: true,
      // Our own store keeps the conversation state; botkit's dialog state is per turn only.
      storage: new PerTurnStorage(),
    });
    const dispatch = async (bot: BotWorker, message: BotkitMessage) => {
      const inbound = (message.incoming_message.channelData as Record<string, Inbound>)[INBOUND]!;
      for (const reply of await handler(inbound)) {
        await bot.say({ type: ActivityTypes.Message, text: reply.type === 'text' ? reply.text : '', channelData: { [REPLY]: reply } });
      }
    };
    this.controller.on(['message', 'event'], dispatch);
  }

  /** Runs one turn through botkit and returns what the bot said. */
  async turn(inbound: Inbound): Promise<Reply[]> {
    return this.adapter.run(inbound, (context) => this.controller.handleTurn(context));
  }
}
