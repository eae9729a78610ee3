// The one 400 a class-validator failure becomes, for /v1 bodies and admin bodies alike: the first
// invalid field, with `param` naming it as precisely as the message does.
import type { ValidationError } from 'class-validator';
import { GatewayError } from './gateway-error';

/**
 * Property decorators apply bottom-up, so `@IsNumber() @Min(0) @Max(2)` checks Max first and "a"
 * would be reported as "must not be greater than 2". The reported failure is the most basic one:
 * missing, then a wrong type (isNumber, isInt, isString, a custom isMessages...), then ranges.
 */
function pickConstraint(constraints: Record<string, string>): string {
  const names = Object.keys(constraints);
  const pick =
    names.find((n) => n === 'isDefined' || n === 'isNotEmpty') ?? names.find((n) => /^is[A-Z]/.test(n)) ?? names[0];
  return constraints[pick];
}

export function firstValidationError(e: ValidationError, prefix = ''): { param: string; message: string } {
  const path = prefix ? `${prefix}.${e.property}` : e.property;
  if (e.constraints && Object.keys(e.constraints).length) {
    const message = pickConstraint(e.constraints);
    // a validator of a whole array may name the element at fault ("messages[0].content must be ..."):
    // `param` is then that element's path
    const named = /^([A-Za-z_]\w*(?:\[\d+\]|\.\w+)+)\s/.exec(message)?.[1];
    const param = named && (named.startsWith(`${path}[`) || named.startsWith(`${path}.`)) ? named : path;
    return { param, message };
  }
  if (e.children?.length) return firstValidationError(e.children[0], path);
  return { param: path, message: `${path} is invalid` };
}

export function validationFailure(errors: ValidationError[]): GatewayError {
  const { param, message } = firstValidationError(errors[0]);
  return new GatewayError(
    'bad_request',
    message.replace(/^property (\S+) should not exist$/, 'unknown field: $1'),
    param,
  );
}
