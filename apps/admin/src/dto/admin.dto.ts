// Admin API request bodies. Strict: unknown fields are refused (a typo must not pass silently).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsArray,
  IsEmail,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  ValidationOptions,
  isISO8601,
} from 'class-validator';
import { MoneyFormatError, parseAmount } from '@switchyard/core';

/** What is wrong with an amount, or null: it must parse exactly and fit the bigint column it goes to. */
function amountProblem(v: unknown): string | null {
  if (typeof v === 'string' ? !/^\d+(\.\d+)?$/.test(v) : typeof v !== 'number' || !(v >= 0))
    return 'must be a decimal amount such as "25.00" (at most 9 decimals)';
  try {
    parseAmount(v as string | number);
    return null;
  } catch (e) {
    if (e instanceof MoneyFormatError) return `must be a decimal amount such as "25.00": ${e.message}`;
    throw e;
  }
}

/**
 * A non-negative decimal amount in currency units: a string ("25.00"), or a JSON number (25) when it is
 * exact (at most 15 significant digits); at most 9 decimals and 9223372036.854775807 (a bigint of nanos).
 */
export function IsAmount(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isAmount',
      validator: {
        validate: (v: unknown) => amountProblem(v) === null,
        defaultMessage: (a) => `${a?.property} ${amountProblem(a?.value) ?? 'is invalid'}`,
      },
    },
    options,
  );
}

/** An ISO 8601 time that is a real date (no February 30th) within what timestamptz holds (years 1-9999). */
export function IsTime(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isTime',
      validator: {
        validate: (v: unknown) => {
          if (typeof v !== 'string' || !isISO8601(v, { strict: true })) return false;
          const year = new Date(v).getUTCFullYear();
          return year >= 1 && year <= 9999;
        },
        defaultMessage: (a) => `${a?.property} must be an ISO 8601 time such as 2030-01-31T00:00:00Z`,
      },
    },
    options,
  );
}

export class LoginDto {
  @ApiProperty() @IsEmail({}, { message: 'email must be an email address' }) email!: string;
  @ApiProperty() @IsString() @IsNotEmpty({ message: 'password is required' }) password!: string;
}

export class CreateAgentDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
  @ApiProperty() @IsEmail({}, { message: 'email must be an email address' }) email!: string;
  @ApiProperty()
  @IsString()
  @MinLength(8, { message: 'password must be at least 8 characters' })
  @MaxLength(200)
  password!: string;
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @IsString({ each: true }) allowlist?:
    string[] | null;
}

export class UpdateAgentDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) name?: string;
  @ApiPropertyOptional({ type: [String], nullable: true })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  allowlist?: string[] | null;
}

export class CreateWorkspaceDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
  @ApiPropertyOptional({ description: 'required for platform admins; omitted by agents' })
  @IsOptional()
  @IsUUID('all', { message: 'agent_id must be an id' })
  agent_id?: string;
}

const INT_CAP = 10_000_000;
const INT4_CAP = 2_000_000_000; // under Postgres integer's 2147483647

export class LimitsDto {
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsInt() @Min(1) @Max(INT_CAP) rpm?: number | null;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsInt() @Min(1) @Max(INT4_CAP) tpm?: number | null;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsInt() @Min(1) @Max(INT4_CAP) daily_requests?: number | null;
  @ApiPropertyOptional({ nullable: true, example: '10.00' }) @IsOptional() @IsAmount() daily_spend?:
    string | number | null;
}

export class UpdateWorkspaceDto extends LimitsDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) name?: string;
  // a bigint column, sent and shown as a JSON number: bounded where numbers stay exact
  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  storage_limit_bytes?: number | null;
}

export class CreateKeyDto extends LimitsDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
  @ApiPropertyOptional({ type: [String], nullable: true })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  allowlist?: string[] | null;
  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsTime()
  expires_at?: string | null;
}

export class UpdateKeyDto extends LimitsDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) name?: string;
  @ApiPropertyOptional({ type: [String], nullable: true })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  allowlist?: string[] | null;
  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsTime()
  expires_at?: string | null;
}

export class AllowlistDto {
  @ApiPropertyOptional({
    type: [String],
    description: 'model names or patterns such as anthropic/*; empty or absent: no restriction',
  })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  models?: string[] | null;
}

export class RechargeDto {
  @ApiProperty({ example: '25.00' }) @IsAmount() amount!: string | number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(500) note?: string;
}

export class CreateTokenDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
}

export class CheckoutDto {
  @ApiProperty() @IsUUID('all', { message: 'workspace_id must be an id' }) workspace_id!: string;
  @ApiProperty({ example: '20.00' }) @IsAmount() amount!: string | number;
}
