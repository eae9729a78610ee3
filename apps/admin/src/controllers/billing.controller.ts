import { Body, Controller, Headers, HttpCode, Post, Req, UseGuards, UseInterceptors, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AdminAuthGuard } from '@switchyard/auth';
import { IdempotencyInterceptor, parseAmount } from '@switchyard/core';
import { AdminPrincipal, Principal, RolesGuard, TenancyService } from '@switchyard/tenancy';
import { StripeService } from '@switchyard/wallets';
import { adminValidationPipe } from '../admin-validation.pipe';
import { CheckoutDto } from '../dto/admin.dto';

@ApiTags('admin: billing')
@ApiBearerAuth()
@Controller('admin/api/billing')
@UseGuards(AdminAuthGuard, RolesGuard)
@UseInterceptors(IdempotencyInterceptor)
@UsePipes(adminValidationPipe)
export class BillingController {
  constructor(
    private readonly stripe: StripeService,
    private readonly tenancy: TenancyService,
  ) {}

  @Post('checkout')
  @ApiOperation({ summary: 'A Stripe Checkout Session that tops up a workspace wallet once paid' })
  async checkout(@Principal() p: AdminPrincipal, @Body() body: CheckoutDto) {
    const ws = await this.tenancy.getWorkspace(p, body.workspace_id);
    return this.stripe.createCheckout(ws.id, parseAmount(body.amount));
  }
}

/** Stripe calls this; it is authenticated by the signature over the raw body, not by a token. */
@Controller('webhooks')
export class StripeWebhookController {
  constructor(private readonly stripe: StripeService) {}

  @Post('stripe')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  webhook(@Req() req: Request, @Headers('stripe-signature') signature?: string) {
    return this.stripe.handleWebhook(req.rawBody, signature);
  }
}
