/** A refusal with the HTTP status it answers with: 400 bad input, 403 not allowed, 404 unknown, 409 a state conflict. */
export class StatusError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 409,
  ) {
    super(message);
  }
}
