import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { GatewayError, validationFailure } from '@switchyard/core';
import { isUuid, optionalQueryId } from '@switchyard/tenancy';

// query parameters that name a record: `id`, `agent_id`, `workspace_id`, ...
const ID_QUERY = /(^|_)id$/;

/**
 * The admin API's one pipe: strict body validation, failing in the contract's envelope with `param` set,
 * and ids checked before any service sees them (a malformed id would otherwise fail Postgres's uuid cast
 * with a 500): a path `:id` that is not a UUID is 404 like any unknown id, a query `*_id` is 400.
 */
class AdminValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'param' && metadata.data === 'id') {
      if (!isUuid(value)) throw new GatewayError('not_found', 'No such record: ids are UUIDs.');
      return value;
    }
    if (metadata.type === 'query' && typeof metadata.data === 'string' && ID_QUERY.test(metadata.data))
      return optionalQueryId(value, metadata.data);
    return super.transform(value, metadata);
  }
}

export const adminValidationPipe = new AdminValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: false,
  exceptionFactory: validationFailure,
});
