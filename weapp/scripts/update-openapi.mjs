#!/usr/bin/env node
// Refreshes weapp/openapi.json, the BFF contract the client's types are generated from:
// from $MM_OPENAPI_URL (a running server, e.g. http://127.0.0.1:8080) when set, else by starting
// the workspace's server binary (see scripts/server.mjs) and asking it.
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './server.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'openapi.json');

async function fetchDoc(base) {
  const res = await fetch(`${base.replace(/\/$/, '')}/api/openapi.json`);
  if (!res.ok) throw new Error(`GET /api/openapi.json: ${res.status}`);
  return res.json();
}

let doc;
if (process.env.MM_OPENAPI_URL) {
  doc = await fetchDoc(process.env.MM_OPENAPI_URL);
} else {
  const server = await startServer();
  try {
    doc = await fetchDoc(server.http);
  } finally {
    await server.stop();
  }
}
writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
console.log(`wrote ${out} (${Object.keys(doc.paths ?? {}).length} paths)`);
