// Starts the real `minimodules` binary for the contract test and `npm run api:update`: dev mode
// (so the local WeChat fake and the demo restaurant are there), SQLite in a fresh temp dir,
// ports chosen by the OS. Resolves once the banner has printed both addresses and the log has
// named the WeChat fake's URL (JSON logs on stderr).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the server binary is: $MM_SERVER_BIN, else the workspace's debug build. */
export function serverBinary() {
  // Cargo's own CARGO_TARGET_DIR is honoured, so a shared build directory works too.
  return process.env.MM_SERVER_BIN || join(process.env.CARGO_TARGET_DIR || join(repo, 'target'), 'debug', 'minimodules');
}

export const DEMO_APPID = 'wx0123456789abcdef';

export async function startServer({ timeoutMs = 60_000 } = {}) {
  const bin = serverBinary();
  if (!existsSync(bin)) {
    throw new Error(`no server binary at ${bin}: run \`cargo build -p mm-server --bin minimodules\` or set MM_SERVER_BIN`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'mm-weapp-'));
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('MINIMODULES_')) delete env[k];
  delete env.RUST_LOG;
  Object.assign(env, {
    MINIMODULES_ENVIRONMENT: 'dev',
    MINIMODULES_DATABASE__URL: `sqlite://${join(dir, 'mm.db')}?mode=rwc`,
    MINIMODULES_SERVER__GRPC_ADDR: '127.0.0.1:0',
    MINIMODULES_SERVER__HTTP_ADDR: '127.0.0.1:0',
    MINIMODULES_LOG__FORMAT: 'json',
    MINIMODULES_LOG__FILTER: 'info',
  });
  const child = spawn(bin, ['serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  let http;
  let grpc;
  let wechatFake;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${logs.join('\n')}`)), timeoutMs);
      const done = () => {
        if (http && grpc && wechatFake) {
          clearTimeout(timer);
          resolvePromise();
        }
      };
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /HTTP \(BFF\)\s*:\s*(\S+)/.exec(line);
        if (m) {
          http = m[1].startsWith('http') ? m[1] : `http://${m[1]}`;
          done();
        }
        const g = /gRPC \+ grpc-web\s*:\s*(\S+)/.exec(line);
        if (g) {
          grpc = g[1].startsWith('http') ? g[1] : `http://${g[1]}`;
          done();
        }
      });
      createInterface({ input: child.stderr }).on('line', (line) => {
        logs.push(line);
        if (logs.length > 200) logs.shift();
        try {
          const rec = JSON.parse(line);
          const url = rec.fields?.url ?? rec.url;
          if (typeof url === 'string' && /fake/i.test(rec.fields?.message ?? rec.message ?? '')) {
            wechatFake = url;
            done();
          }
        } catch {
          // not JSON: ignore
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}:\n${logs.join('\n')}`));
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  // The banner says localhost; use the loopback address the server bound.
  http = http.replace('localhost', '127.0.0.1');
  grpc = grpc.replace('localhost', '127.0.0.1');
  return { http, grpc, wechatFake, stop, logs };
}
