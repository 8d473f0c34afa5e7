// Starts the real `minimodules` binary for the end-to-end suite: dev environment, SQLite in a
// fresh temporary directory, both ports chosen by the OS (read back from the start-up banner), the
// built dashboard served from web-admin/dist, and a platform operator created through the CLI.
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, createWriteStream } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'

export const OPERATOR = { login: 'ops', password: 'e2e-operator-password-1' }

export async function startServer({ binary, adminDir }) {
  const dir = mkdtempSync(join(tmpdir(), 'mm-e2e-'))
  const env = {
    ...process.env,
    MINIMODULES_ENVIRONMENT: 'dev',
    MINIMODULES_DATABASE__URL: `sqlite://${join(dir, 'mm.db')}?mode=rwc`,
    MINIMODULES_SERVER__GRPC_ADDR: '127.0.0.1:0',
    MINIMODULES_SERVER__HTTP_ADDR: '127.0.0.1:0',
    MINIMODULES_ADMIN__DIR: resolve(adminDir),
    MINIMODULES_AUTH__JWT_SECRET: randomBytes(32).toString('hex'),
    MINIMODULES_LOG__FILTER: process.env.TEST_LOG ? 'info' : 'warn',
    E2E_OPERATOR_PASSWORD: OPERATOR.password,
  }
  delete env.MINIMODULES_CONFIG
  delete env.RUST_LOG
  delete env.MINIMODULES_CACHE__REDIS_URL

  execFileSync(
    binary,
    ['create-operator', '--login', OPERATOR.login, '--name', 'E2E Ops', '--password-env', 'E2E_OPERATOR_PASSWORD'],
    {
      cwd: dir,
      env,
      stdio: ['ignore', 'ignore', process.env.TEST_LOG ? 'inherit' : 'ignore'],
    },
  )

  const child = spawn(binary, ['serve'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const log = createWriteStream(join(dir, 'server.log'))
  child.stderr.pipe(log)
  if (process.env.TEST_LOG) child.stderr.pipe(process.stderr)

  const addresses = await new Promise((resolveAddr, reject) => {
    const found = {}
    const timer = setTimeout(() => reject(new Error(`server did not start; see ${join(dir, 'server.log')}`)), 60_000)
    child.once('exit', (code) => reject(new Error(`server exited with ${code}; see ${join(dir, 'server.log')}`)))
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = line.match(/^\s*(gRPC \+ grpc-web|HTTP \(BFF\))\s*:\s*(\S+)/)
      if (m) found[m[1].startsWith('gRPC') ? 'grpc' : 'http'] = m[2]
      if (found.grpc && found.http) {
        clearTimeout(timer)
        resolveAddr(found)
      }
    })
  })

  return {
    ...addresses,
    admin: `${addresses.http}/admin/`,
    dir,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await new Promise((r) => {
          const t = setTimeout(() => {
            child.kill('SIGKILL')
            r()
          }, 10_000)
          child.once('exit', () => {
            clearTimeout(t)
            r()
          })
        })
      }
      if (!process.env.MM_E2E_KEEP) rmSync(dir, { recursive: true, force: true })
    },
  }
}
