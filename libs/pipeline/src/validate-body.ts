// Validation of /v1 bodies: class-validator on the fields the gateway reads, nothing stripped (unknown
// OpenAI parameters pass through to the adapter). The first failure is a 400 with `param` naming it.
import { validateSync, ValidationError } from 'class-validator';
import { GatewayError } from '@switchyard/core';

export function validateBody<T extends object>(cls: new () => T, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayError('bad_request', 'The request body must be a JSON object.');
  }
  const instance = Object.assign(new cls(), body);
  const errors = validateSync(instance, {
    forbidUnknownValues: false,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
  });
  if (errors.length) {
    const { path, message } = firstError(errors[0]);
    throw new GatewayError('bad_request', message, path);
  }
  return instance;
}

function firstError(e: ValidationError, prefix = ''): { path: string; message: string } {
  const path = prefix ? `${prefix}.${e.property}` : e.property;
  if (e.constraints) {
    const msg = Object.values(e.constraints)[0];
    return { path, message: msg };
  }
  if (e.children?.length) return firstError(e.children[0], path);
  return { path, message: `${path} is invalid` };
}
