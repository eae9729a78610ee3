// Errors thrown by adapter transforms; routing maps them to the gateway's error codes.

/** The client's request cannot be expressed in the upstream's format (400 bad_request, `param` names the field). */
export class AdapterRequestError extends Error {
  constructor(
    message: string,
    public param?: string,
  ) {
    super(message);
    this.name = 'AdapterRequestError';
  }
}

/** The upstream reported an error inside an already-started stream; `message` is safe to show the client. */
export class UpstreamStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamStreamError';
  }
}
