/**
 * 热线助手 over HTTP: POST /api/assist (one utterance of a call → suggestions) and
 * POST /api/assist/feedback (采纳 / 修改后采纳 / 无用). Callers: hotline staff with a session
 * (role hotline; a change carries the session's CSRF token, checked by staffAuth), a hotline
 * system with the bearer ASSIST_API_TOKEN, or a system with the bearer STAFF_API_TOKEN.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { MAX_QUESTION_CHARS, type Asker } from '../ask.ts';
import { HotlineAssistant } from '../assist/assistant.ts';
import { CALL_ID } from '../assist/call-context.ts';
import { SUGGESTION_ID, VERDICTS, type FeedbackTarget, type Verdict } from '../assist/store.ts';
import { maskPersonalNumbers } from '../privacy.ts';
import { wellFormed } from '../storable-text.ts';
import type { Database } from '../store/database.ts';
import type { KnowledgeBase } from '../../knowledge-base/knowledge-base.ts';
import { auditOf, rolesOnly, sameToken, staffOf, type StaffAuth } from './staff-routes.ts';

/** The actor recorded for a hotline system that uses ASSIST_API_TOKEN. */
export const ASSIST_API_ACTOR = 'assist-api';
const MAX_ITEM_ID = 40;

export interface AssistRouteDeps {
  db: Database;
  kb: KnowledgeBase;
  asker: Asker;
  /** staffAuth of the app: session cookie (with CSRF) or STAFF_API_TOKEN. */
  staff: StaffAuth;
  /** ASSIST_API_TOKEN: a hotline system that may use the assistant and nothing else. */
  token?: string;
  /** The assistant shared with the inbox (made here when not given). */
  assistant?: HotlineAssistant;
}

class BadInput extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(v: unknown, name: string): string {
  if (typeof v !== 'string' || !v.trim()) throw new BadInput(`${name} 必须是非空文本 ("${name}" must be a non-empty string)`);
  if (v.length > MAX_QUESTION_CHARS) throw new BadInput(`${name} 太长了，请控制在 ${MAX_QUESTION_CHARS} 字以内 ("${name}" longer than ${MAX_QUESTION_CHARS} characters)`);
  if (!wellFormed(v)) throw new BadInput(`${name} 含有无效字符 (control characters or broken Unicode)`);
  return v.trim();
}

function callId(v: unknown, required: boolean): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw new BadInput('缺少 callId ("callId" is required here)');
    return undefined;
  }
  if (typeof v !== 'string' || !CALL_ID.test(v)) throw new BadInput('callId 只能包含字母、数字和 . _ : -，长度 1–64 ("callId": 1–64 letters, digits, ".", "_", ":" or "-")');
  // It is stored and audited as given: it must not be the caller's phone or ID number.
  if (maskPersonalNumbers(v) !== v) throw new BadInput('callId 不能是电话号码或证件号码，请用热线系统的通话编号 ("callId" must not be a phone or ID number)');
  return v;
}

export function assistRoutes(deps: AssistRouteDeps): Router {
  const router = Router();
  const assistant = deps.assistant ?? new HotlineAssistant({ db: deps.db, kb: deps.kb, asker: deps.asker });

  // A hotline system with its own token; anyone else is staff (or a staff system) with role hotline.
  const auth = (req: Request, res: Response, next: NextFunction) => {
    const bearer = (req.get('authorization') ?? '').replace(/^Bearer\s+/i, '');
    if (bearer && deps.token && sameToken(bearer, deps.token)) {
      res.setHeader('cache-control', 'no-store');
      res.locals.staff = { username: ASSIST_API_ACTOR, roles: ['hotline'] };
      return next();
    }
    deps.staff(req, res, next);
  };
  const hotline = rolesOnly('hotline');
  /** The audit writer when a staff session (or STAFF_API_TOKEN) is used; none for ASSIST_API_TOKEN. */
  const audit = (res: Response) => (res.locals.audit ? auditOf(res) : null);

  router.post('/api/assist', auth, hotline, async (req, res) => {
    const body: unknown = req.body;
    if (!isObject(body)) return void res.status(400).json({ error: '请求体必须是 JSON 对象 {text, callId?} (body must be a JSON object)' });
    try {
      const reply = await assistant.assist({ text: text(body.text, 'text'), callId: callId(body.callId, false), actor: staffOf(res).username });
      res.json(reply);
    } catch (e) {
      if (e instanceof BadInput) return void res.status(400).json({ error: e.message });
      throw e;
    }
  });

  router.post('/api/assist/feedback', auth, hotline, async (req, res) => {
    const body: unknown = req.body;
    if (!isObject(body)) return void res.status(400).json({ error: '请求体必须是 JSON 对象 (body must be a JSON object)' });
    let target: FeedbackTarget;
    let verdict: Verdict;
    let editedText: string | undefined;
    try {
      if (typeof body.verdict !== 'string' || !(VERDICTS as readonly string[]).includes(body.verdict)) {
        throw new BadInput(`verdict 必须是 ${VERDICTS.join('、')} 之一（采纳、修改后采纳、无用） ("verdict" must be one of ${VERDICTS.join(', ')})`);
      }
      verdict = body.verdict as Verdict;
      if (body.suggestionId !== undefined) {
        if (typeof body.suggestionId !== 'string' || !SUGGESTION_ID.test(body.suggestionId)) throw new BadInput('suggestionId 格式不对，应为建议里的 id，如 "12-1" ("suggestionId": the id of a suggestion, e.g. "12-1")');
        target = { suggestionId: body.suggestionId };
      } else {
        if (body.callId === undefined && body.utterance === undefined && body.itemId === undefined) {
          throw new BadInput('请给出 suggestionId，或 callId、utterance 和 itemId (give "suggestionId", or "callId", "utterance" and "itemId")');
        }
        const item = body.itemId;
        if (typeof item !== 'string' || !item || item.length > MAX_ITEM_ID) throw new BadInput('itemId 必须是事项编号，如 "sfz-04" ("itemId" must be an item id)');
        target = { callId: callId(body.callId, true)!, utterance: text(body.utterance, 'utterance'), itemId: item };
      }
      if (body.editedText !== undefined) {
        if (verdict !== 'edited') throw new BadInput('editedText 只用于 verdict "edited"（修改后采纳） ("editedText" goes with verdict "edited" only)');
        editedText = text(body.editedText, 'editedText');
      }
    } catch (e) {
      if (e instanceof BadInput) return void res.status(400).json({ error: e.message });
      throw e;
    }
    const saved = await assistant.feedback({ target, verdict, editedText, actor: staffOf(res).username });
    const targetName = 'suggestionId' in target ? target.suggestionId : `${target.callId}/${target.itemId}`;
    if (!saved) {
      await audit(res)?.('assist.feedback', { target: targetName, outcome: 'failed', details: { verdict, reason: 'no such suggestion' } });
      return void res.status(404).json({ error: '没有这条建议 (no such suggestion)' });
    }
    await audit(res)?.('assist.feedback', { target: saved.suggestionId, details: { verdict, itemId: saved.itemId, callId: saved.callId } });
    res.json({ feedback: saved });
  });

  return router;
}
