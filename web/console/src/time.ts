/**
 * Times as the bureau reads them: its own time zone, whatever the browser's is. The zone is
 * the server's (GET cases/options gives it); until a page sets it, Asia/Shanghai.
 */
export const DEFAULT_BUREAU_TZ = 'Asia/Shanghai';

let bureauTz = DEFAULT_BUREAU_TZ;

/** Sets the zone every formatted time is shown in; an unknown zone is ignored (the current one stays). */
export function setBureauTimeZone(tz: string | null | undefined): void {
  if (!tz || tz === bureauTz) return;
  try {
    new Intl.DateTimeFormat('zh-CN', { timeZone: tz });
    bureauTz = tz;
  } catch {
    // Not a zone this browser knows: keep showing the bureau's default.
  }
}

export function bureauTimeZone(): string {
  return bureauTz;
}

export function formatTime(iso: string | Date): string {
  return new Date(iso).toLocaleString('zh-CN', { timeZone: bureauTz, hour12: false, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}
