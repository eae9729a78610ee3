import { Injectable } from '@nestjs/common';

/** Set when SIGTERM arrives: /readyz turns 503 so a load balancer stops sending traffic. */
@Injectable()
export class ShutdownState {
  draining = false;
}
