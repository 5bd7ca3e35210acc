/** 热线助手 in the console: the API's shapes, call ids, and copying a suggestion. */

export interface Suggestion {
  id: string;
  itemId: string;
  itemName: string;
  aspect: string;
  situation: string | null;
  text: string;
  sources: Array<{ itemId: string; section: string }>;
  askCaller: string[];
}

export interface AssistReply {
  callId: string | null;
  utteranceId: number;
  intent: string;
  suggestions: Suggestion[];
  emergency: { number: string; reason: string; also?: string[] } | null;
  unanswered: boolean;
  notice: string | null;
}

export type Verdict = 'adopted' | 'edited' | 'useless';

export const VERDICT_NAMES: Record<Verdict, string> = { adopted: '采纳', edited: '修改后采纳', useless: '无用' };

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * A new call's id: date, time and a random part, e.g. H20250501-093012-7f3a2c. Random bytes
 * from crypto.getRandomValues, which works on plain HTTP too (randomUUID needs HTTPS).
 */
export function newCallId(now = new Date()): string {
  // Letters only after the time, and a "T" between date and time: no run of digits (even across
  // "-", as the server reads numbers) can look like a mobile or ID number, which it refuses.
  const rnd = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => String.fromCharCode(97 + (b % 26))).join('');
  return `H${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}T${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}-${rnd}`;
}

/**
 * Copies text: the Clipboard API where the page may use it (HTTPS or localhost, permission
 * given), otherwise a selected off-screen textarea and execCommand('copy').
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // refused (no permission, page not focused): the fallback below
  }
  const buffer = document.createElement('textarea');
  buffer.value = text;
  buffer.setAttribute('readonly', '');
  buffer.setAttribute('aria-hidden', 'true');
  // Set through the CSSOM, which the CSP allows (a style attribute would not be).
  buffer.style.position = 'fixed';
  buffer.style.left = '-9999px';
  buffer.style.top = '0';
  document.body.appendChild(buffer);
  const focused = document.activeElement as HTMLElement | null;
  buffer.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  buffer.remove();
  focused?.focus();
  return ok;
}
