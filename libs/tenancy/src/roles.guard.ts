import { CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { GatewayError } from '@switchyard/core';
import { AdminPrincipal } from './admin-principal';
import type { AdminRole } from './entities/admin-user.entity';

const ROLES = 'sy:roles';

/** Restricts a route (or controller) to these roles; without it, any signed-in admin user may call. */
export const Roles = (...roles: AdminRole[]) => SetMetadata(ROLES, roles);

/** The signed-in admin caller (set by the admin bearer guard). */
export const Principal = createParamDecorator((_: unknown, ctx: ExecutionContext): AdminPrincipal => {
  const p = ctx.switchToHttp().getRequest<Request & { user?: AdminPrincipal }>().user;
  if (!p) throw new GatewayError('missing_authorization', 'Sign in first: send Authorization: Bearer <token>.');
  return p;
});

@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<AdminRole[] | undefined>(ROLES, [ctx.getHandler(), ctx.getClass()]);
    if (!roles?.length) return true;
    const p = ctx.switchToHttp().getRequest<Request & { user?: AdminPrincipal }>().user;
    if (!p || !roles.includes(p.role)) throw new GatewayError('forbidden', 'This route is for platform admins only.');
    return true;
  }
}
