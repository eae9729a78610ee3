import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min, ValidateBy } from 'class-validator';
import type { EmbeddingRequest } from '@switchyard/providers';

export const MAX_INPUTS = 2048;

/** What is wrong with `input`, or null: a string, or a non-empty array of strings, token ids, token arrays or blocks. */
export function inputProblem(v: unknown): string | null {
  if (typeof v === 'string') return v.length ? null : 'input must not be empty';
  if (!Array.isArray(v) || v.length === 0) return 'input must be a string or a non-empty array';
  if (v.length > MAX_INPUTS) return `input may hold at most ${MAX_INPUTS} items`;
  const kinds = new Set(v.map((x) => (Array.isArray(x) ? 'tokens' : typeof x)));
  if (kinds.size > 1) return 'input items must all have the same type';
  const k = [...kinds][0];
  if (k === 'string') return v.some((s) => !(s as string).length) ? 'input strings must not be empty' : null;
  if (k === 'number') return v.every((n) => Number.isInteger(n)) ? null : 'token ids must be integers';
  if (k === 'tokens')
    return v.every((a) => (a as unknown[]).length && (a as unknown[]).every((n) => Number.isInteger(n)))
      ? null
      : 'token arrays must hold integers';
  if (k === 'object')
    return v.every((b) => typeof (b as { type?: unknown })?.type === 'string') ? null : 'input blocks must have a type';
  return 'input must be a string or an array';
}

export class EmbeddingsDto implements EmbeddingRequest {
  [extra: string]: unknown;

  @ApiProperty({ example: 'text-embedding-3-small' })
  @IsString({ message: 'model must be a string' })
  @IsNotEmpty({ message: 'model is required' })
  model!: string;

  @ApiProperty({ example: 'The quick brown fox' })
  @ValidateBy({
    name: 'isEmbeddingInput',
    validator: {
      validate: (v) => inputProblem(v) === null,
      defaultMessage: (a) => inputProblem(a?.value) ?? 'input is invalid',
    },
  })
  input!: EmbeddingRequest['input'];

  @ApiPropertyOptional({ enum: ['float', 'base64'] })
  @IsOptional()
  @IsIn(['float', 'base64'], { message: 'encoding_format must be "float" or "base64"' })
  encoding_format?: 'float' | 'base64';

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt({ message: 'dimensions must be an integer' })
  @Min(1)
  @Max(65536)
  dimensions?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() user?: string;
}
