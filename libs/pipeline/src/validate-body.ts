// Validation of /v1 bodies: class-validator on the fields the gateway reads, nothing stripped (unknown
// OpenAI parameters pass through to the adapter). The first failure is a 400 with `param` naming it.
import { validateSync } from 'class-validator';
import { GatewayError, validationFailure } from '@switchyard/core';

export function validateBody<T extends object>(cls: new () => T, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('bad_request', 'The request body must be a JSON object.');
  }
  const instance = Object.assign(new cls(), body);
  // every constraint of a field runs (no stopAtFirstError), so the type check can be the one reported
  const errors = validateSync(instance, {
    forbidUnknownValues: false,
    validationError: { target: false, value: false },
  });
  if (errors.length) throw validationFailure(errors);
  return instance;
}
