// Standalone demo upstream: `node dist/tools/demo-upstream/main.js [--port 4010] [--host 127.0.0.1]`.
import { startDemoUpstream } from './server';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const inline = process.argv.find((a) => a.startsWith(`--${name}=`));
  return inline?.slice(name.length + 3);
}

async function main(): Promise<void> {
  const port = Number(arg('port') ?? 4010);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port: ${arg('port')}`);
  const upstream = await startDemoUpstream({ port, host: arg('host') ?? '127.0.0.1' });
  process.stdout.write(`demo upstream listening on ${upstream.url}\n`);
  const stop = () => {
    void upstream.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo upstream failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
