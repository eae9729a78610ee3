// Admin API request bodies. Strict: unknown fields are refused (a typo must not pass silently).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsArray,
  IsDateString,
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
} from 'class-validator';

/** A decimal amount in currency units, as a string ("25.00") or a JSON number (25). */
export function IsAmount(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isAmount',
      validator: {
        validate: (v: unknown) =>
          (typeof v === 'string' && /^\d{1,12}(\.\d{1,9})?$/.test(v)) ||
          (typeof v === 'number' && Number.isFinite(v) && v >= 0 && !/e/i.test(String(v))),
        defaultMessage: (a) => `${a?.property} must be a decimal amount such as "25.00" (at most 9 decimals)`,
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

export class LimitsDto {
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsInt() @Min(1) @Max(INT_CAP) rpm?: number | null;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsInt() @Min(1) @Max(2_000_000_000) tpm?: number | null;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsInt() @Min(1) @Max(2_000_000_000) daily_requests?:
    number | null;
  @ApiPropertyOptional({ nullable: true, example: '10.00' }) @IsOptional() @IsAmount() daily_spend?:
    string | number | null;
}

export class UpdateWorkspaceDto extends LimitsDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) name?: string;
  @ApiPropertyOptional({ nullable: true }) @IsOptional() @IsInt() @Min(0) storage_limit_bytes?: number | null;
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
  @IsDateString({}, { message: 'expires_at must be an ISO 8601 time' })
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
  @IsDateString({}, { message: 'expires_at must be an ISO 8601 time' })
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
