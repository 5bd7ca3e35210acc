/** Times as the bureau reads them: its own time zone, whatever the browser's is. */
export const BUREAU_TZ = 'Asia/Shanghai';

export function formatTime(iso: string | Date): string {
  return new Date(iso).toLocaleString('zh-CN', { timeZone: BUREAU_TZ, hour12: false, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}
