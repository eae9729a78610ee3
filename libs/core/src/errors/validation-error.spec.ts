import { IsArray, IsInt, IsNotEmpty, IsNumber, IsOptional, IsString, Max, Min, validateSync } from 'class-validator';
import { ValidateBy } from 'class-validator';
import { firstValidationError } from './validation-error';

class Sample {
  @IsString({ message: 'model must be a string' }) @IsNotEmpty({ message: 'model is required' }) model?: unknown;
  @IsOptional() @IsNumber({}, { message: 'temperature must be a number' }) @Min(0) @Max(2) temperature?: unknown;
  @IsOptional() @IsInt() @Min(1) @Max(10) rpm?: unknown;
  @IsOptional()
  @IsArray()
  @ValidateBy({
    name: 'isMessages',
    validator: { validate: () => false, defaultMessage: () => 'messages[2].content must be a string' },
  })
  messages?: unknown;
  @IsOptional()
  @ValidateBy({ name: 'isOther', validator: { validate: () => false, defaultMessage: () => 'other[0] is not ok' } })
  list?: unknown;
}

function first(body: Record<string, unknown>) {
  const errors = validateSync(Object.assign(new Sample(), { model: 'm', ...body }), { forbidUnknownValues: false });
  return firstValidationError(errors[0]);
}

describe('firstValidationError', () => {
  it('reports a wrong type before a range, whatever the decorator order', () => {
    expect(first({ temperature: 'a' })).toEqual({ param: 'temperature', message: 'temperature must be a number' });
    expect(first({ temperature: 3 }).message).toMatch(/must not be greater than 2/);
    expect(first({ rpm: 'x' }).message).toMatch(/must be an integer/);
    expect(first({ rpm: 0 }).message).toMatch(/must not be less than 1/);
  });

  it('reports a missing field as required', () => {
    expect(first({ model: undefined })).toEqual({ param: 'model', message: 'model is required' });
    expect(first({ model: 42 })).toEqual({ param: 'model', message: 'model must be a string' });
  });

  it('names the element at fault when the message does', () => {
    expect(first({ messages: [{}, {}, { role: 'user' }] })).toEqual({
      param: 'messages[2].content',
      message: 'messages[2].content must be a string',
    });
    // Anthropic's style of path too
    expect(
      firstValidationError({ property: 'messages', constraints: { isX: 'messages.0.role must be "user"' } }),
    ).toEqual({
      param: 'messages.0.role',
      message: 'messages.0.role must be "user"',
    });
    // a message that names another field does not redirect `param`
    expect(first({ list: [1] }).param).toBe('list');
  });
});
