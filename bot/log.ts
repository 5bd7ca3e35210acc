/**
 * The process log: one JSON line per event (pino) at LOG_LEVEL, on stdout unless another
 * destination is given (a test captures it). Every string in a line — the message, fields at
 * any depth, child bindings, an error's message and stack — has ID-card, mobile and bank-card
 * numbers masked just before it is written, whatever part logged it: a careless field cannot
 * leak a citizen's number.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.ts';
import { mayHoldPersonalNumber, maskPersonalNumbers } from './privacy.ts';

export type { DestinationStream, Logger };

/**
 * Every string masked, and a number that reads as a mobile or an ID (someone logged it as a
 * number) replaced by its masked text; keys and structure kept.
 */
function masked(v: unknown): unknown {
  if (typeof v === 'string') return maskPersonalNumbers(v);
  if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) >= 1e10) {
    const m = maskPersonalNumbers(String(v));
    return m === String(v) ? v : m;
  }
  if (Array.isArray(v)) return v.map(masked);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, masked(x)]));
  return v;
}

/**
 * The finished line parsed back, masked, written again: this reaches the message, bindings
 * and serialized errors too (masking the raw text could break a number field's JSON).
 */
function maskLine(line: string): string {
  // Most lines hold no long run of digits at all: they are written as they are, unparsed.
  if (!mayHoldPersonalNumber(line)) return line;
  try {
    return `${JSON.stringify(masked(JSON.parse(line)))}\n`;
  } catch {
    return maskPersonalNumbers(line);
  }
}

export function createLogger(level: Config['logLevel'], destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      // "level":"warn" rather than 40: read by people as often as by machines.
      formatters: { level: (label) => ({ level: label }) },
      hooks: { streamWrite: maskLine },
    },
    destination ?? pino.destination(1),
  );
}

let fallback: Logger | undefined;

/** For parts used without a server (CLI tools, a test of one part): warnings and errors on stderr. */
export function fallbackLog(): Logger {
  fallback ??= createLogger('warn', pino.destination(2));
  return fallback;
}
