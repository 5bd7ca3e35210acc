/**
 * Text the store can keep: no control characters (tab and newline aside) and no lone
 * surrogates. PostgreSQL refuses NUL outright, and a lone surrogate would let two ids that
 * look alike collide; such input is refused with a clear message rather than a 500.
 */
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function wellFormed(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/** The same text with what cannot be stored removed (for channels that must answer anyway). */
export function storable(s: string): string {
  return s.replace(new RegExp(UNSTORABLE.source, 'g'), '');
}
