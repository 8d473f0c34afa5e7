#!/usr/bin/env node
// Compiles the mini-program as WeChat's tooling does (TypeScript → CommonJS JavaScript beside
// the WXML, WXSS and JSON) into .build/miniprogram, so page and component tests load real files
// with miniprogram-simulate. Exported for vitest's globalSetup; runnable on its own.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function copyAssets(from, to) {
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    if (statSync(src).isDirectory()) copyAssets(src, dst);
    else if (/\.(wxml|wxss|json|wxs|png|svg)$/.test(name)) {
      mkdirSync(dirname(dst), { recursive: true });
      cpSync(src, dst);
    }
  }
}

export function buildForTests() {
  const out = join(root, '.build');
  rmSync(out, { recursive: true, force: true });
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  copyAssets(join(root, 'miniprogram'), join(out, 'miniprogram'));
  return relative(process.cwd(), join(out, 'miniprogram')) || '.';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`built ${buildForTests()}`);
}
