// A TCP proxy in front of a real service (Postgres, Redis), so a test can take the service away from
// one process at run time: `cut()` drops every connection and refuses new ones at once; `restore()`
// lets them through again. `firstPackets` keeps each connection's first bytes (a Postgres start-up
// message names the database it asks for).
import { createServer, Server, Socket } from 'node:net';

export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private cutOff = false;
  readonly firstPackets: Buffer[] = [];
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  /** A proxy in front of the host and port of `url` (postgres:// or redis://). */
  static for(url: string): TcpProxy {
    const u = new URL(url);
    return new TcpProxy(u.hostname, Number(u.port || (u.protocol.startsWith('redis') ? 6379 : 5432)));
  }

  async start(): Promise<this> {
    this.server = createServer((client) => {
      if (this.cutOff) return client.destroy();
      const upstream = new Socket();
      upstream.connect(this.targetPort, this.host);
      client.once('data', (b: Buffer) => this.firstPackets.push(b));
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** `url` with its host and port replaced by this proxy's. */
  via(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  cut(): void {
    this.cutOff = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.cutOff = false;
  }

  /** The databases Postgres start-up messages asked for, in order. */
  postgresDatabases(): string[] {
    return this.firstPackets.flatMap((b) => {
      // int32 length, int32 protocol 3.0, then NUL-terminated key/value pairs
      if (b.length < 8 || b.readInt32BE(4) !== 196608) return [];
      const parts = b.subarray(8).toString('utf8').split('\0');
      const i = parts.indexOf('database');
      return i >= 0 ? [parts[i + 1]] : [];
    });
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
