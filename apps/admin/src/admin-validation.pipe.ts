import { ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { GatewayError } from '@switchyard/core';

/** Strict body validation for the admin API, failing in the contract's envelope with `param` set. */
export const adminValidationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: false,
  exceptionFactory: (errors: ValidationError[]) => {
    const e = errors[0];
    const msg = e.constraints ? Object.values(e.constraints)[0] : `${e.property} is invalid`;
    return new GatewayError(
      'bad_request',
      msg.replace(/^property (\S+) should not exist$/, 'unknown field: $1'),
      e.property,
    );
  },
});
