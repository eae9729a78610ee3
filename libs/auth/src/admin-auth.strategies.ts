// Passport strategies for the admin API: email + password at login, bearer token on every other route.
import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { Strategy as BearerStrategy } from 'passport-http-bearer';
import { Strategy as LocalStrategy } from 'passport-local';
import { GatewayError, randomBase62 } from '@switchyard/core';
import { AdminPrincipal, AdminUser, TenancyService, hashPassword, verifyPassword } from '@switchyard/tenancy';
import { AdminTokensService } from './admin-tokens.service';

// A real hash to verify against when the email is unknown, so both paths take the same time.
let dummyHash: Promise<string> | undefined;
const getDummyHash = () => (dummyHash ??= hashPassword(randomBase62(24)));

@Injectable()
export class AdminLocalStrategy extends PassportStrategy(LocalStrategy, 'admin-local') {
  constructor(private readonly tenancy: TenancyService) {
    super({ usernameField: 'email', passwordField: 'password' });
  }

  async validate(email: string, password: string): Promise<AdminUser> {
    const user = await this.tenancy.findUserByEmail(email);
    const ok = await verifyPassword(user?.password_hash ?? (await getDummyHash()), password);
    if (!user || !ok || user.disabled_at) throw new GatewayError('invalid_credentials', 'Wrong email or password.');
    return user;
  }
}

@Injectable()
export class AdminBearerStrategy extends PassportStrategy(BearerStrategy, 'admin-bearer') {
  constructor(private readonly tokens: AdminTokensService) {
    super();
  }

  validate(token: string): Promise<AdminPrincipal> {
    return this.tokens.verify(token);
  }
}

const MAX_EMAIL = 320;
const MAX_PASSWORD = 1024; // argon2 takes any length: a megabyte "password" would only cost us CPU

/** The login body, checked before passport sees it: {email, password}, both non-empty strings. */
export function checkLoginBody(body: unknown): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new GatewayError('bad_request', 'The request body must be a JSON object {email, password}.');
  const { email, password } = body as { email?: unknown; password?: unknown };
  if (typeof email !== 'string' || !email.trim() || email.length > MAX_EMAIL)
    throw new GatewayError(
      'bad_request',
      `email must be a non-empty string of at most ${MAX_EMAIL} characters`,
      'email',
    );
  if (typeof password !== 'string' || !password || password.length > MAX_PASSWORD)
    throw new GatewayError(
      'bad_request',
      `password must be a non-empty string of at most ${MAX_PASSWORD} characters`,
      'password',
    );
}

@Injectable()
export class AdminLoginGuard extends AuthGuard('admin-local') {
  override canActivate(ctx: ExecutionContext) {
    checkLoginBody(ctx.switchToHttp().getRequest<{ body?: unknown }>().body);
    return super.canActivate(ctx);
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err) throw err;
    if (!user) throw new GatewayError('bad_request', 'email and password are required.', 'email');
    return user;
  }
}

/** Every admin route except login: a valid session or agent API token. */
@Injectable()
export class AdminAuthGuard extends AuthGuard('admin-bearer') {
  override handleRequest<T>(err: unknown, user: T, _info: unknown, ctx: ExecutionContext): T {
    if (err) throw err;
    if (!user) {
      const auth = ctx.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers.authorization;
      throw auth
        ? new GatewayError('invalid_credentials', 'Invalid or expired token: sign in again.')
        : new GatewayError('missing_authorization', 'Sign in first: send Authorization: Bearer <token>.');
    }
    return user;
  }
}
