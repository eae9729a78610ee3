import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateBy,
} from 'class-validator';
import type { AnthropicMessagesRequest } from '@switchyard/providers';

function isMessageList(v: unknown): string | null {
  if (!Array.isArray(v)) return 'messages must be an array';
  for (let i = 0; i < v.length; i++) {
    const m = v[i] as { role?: unknown; content?: unknown };
    if (!m || typeof m !== 'object') return `messages.${i} must be an object`;
    if (m.role !== 'user' && m.role !== 'assistant') return `messages.${i}.role must be "user" or "assistant"`;
    if (typeof m.content !== 'string' && !Array.isArray(m.content))
      return `messages.${i}.content must be a string or an array of content blocks`;
  }
  return null;
}

/** Anthropic's Messages request, validated where the gateway reads it. */
export class MessagesDto implements AnthropicMessagesRequest {
  [extra: string]: unknown;

  @ApiProperty({ example: 'claude-sonnet-4-6' })
  @IsString({ message: 'model: Field required' })
  @IsNotEmpty({ message: 'model: Field required' })
  model!: string;

  @ApiProperty({ example: 1024 })
  @IsInt({ message: 'max_tokens: Field required (an integer)' })
  @Min(1, { message: 'max_tokens must be at least 1' })
  max_tokens!: number;

  @ApiProperty({ example: [{ role: 'user', content: 'Hello' }] })
  @IsArray({ message: 'messages: Field required' })
  @ArrayNotEmpty({ message: 'messages: at least one message is required' })
  @ValidateBy({
    name: 'isMessageList',
    validator: {
      validate: (v) => isMessageList(v) === null,
      defaultMessage: (a) => isMessageList(a?.value) ?? 'messages is invalid',
    },
  })
  messages!: AnthropicMessagesRequest['messages'];

  @ApiPropertyOptional() @IsOptional() @IsBoolean() stream?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsNumber() @Min(0) @Max(1) temperature?: number;
  @ApiPropertyOptional() @IsOptional() @IsNumber() @Min(0) @Max(1) top_p?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) top_k?: number;
  @ApiPropertyOptional() @IsOptional() @IsArray() stop_sequences?: string[];
  @ApiPropertyOptional() @IsOptional() @IsArray() tools?: AnthropicMessagesRequest['tools'];
  @ApiPropertyOptional() @IsOptional() @IsObject() tool_choice?: AnthropicMessagesRequest['tool_choice'];
  @ApiPropertyOptional() @IsOptional() @IsObject() metadata?: { user_id?: string | null };
  @ApiPropertyOptional()
  @IsOptional()
  @ValidateBy({
    name: 'isSystem',
    validator: {
      validate: (v) => typeof v === 'string' || Array.isArray(v),
      defaultMessage: () => 'system must be a string or an array of text blocks',
    },
  })
  system?: AnthropicMessagesRequest['system'];
}

/** count_tokens takes the same body without max_tokens. */
export class CountTokensDto {
  [extra: string]: unknown;

  @IsString({ message: 'model: Field required' })
  @IsNotEmpty({ message: 'model: Field required' })
  model!: string;

  @IsArray({ message: 'messages: Field required' })
  @ValidateBy({
    name: 'isMessageList',
    validator: {
      validate: (v) => isMessageList(v) === null,
      defaultMessage: (a) => isMessageList(a?.value) ?? 'messages is invalid',
    },
  })
  messages!: AnthropicMessagesRequest['messages'];
}
