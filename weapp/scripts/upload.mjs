#!/usr/bin/env node
// Uploads the mini-program with miniprogram-ci (WeChat's DevTools compiler as a library), using
// project.config.json's settings — the TypeScript compiler plugin included.
//   npm i --no-save miniprogram-ci   (not a dev dependency: large, and useless without a key)
//   MP_APPID=wx... MP_PRIVATE_KEY=path/to/private.key MP_VERSION=1.2.3 node scripts/upload.mjs
// The upload key comes from 微信公众平台 → 开发管理 → 小程序代码上传, with this machine's IP
// allowed there.
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { MP_APPID, MP_PRIVATE_KEY, MP_VERSION, MP_DESC = '', MP_ROBOT = '1' } = process.env;
if (!MP_APPID || !MP_PRIVATE_KEY || !MP_VERSION) {
  console.error('set MP_APPID, MP_PRIVATE_KEY (path to the upload key) and MP_VERSION');
  process.exit(2);
}
const ci = require('miniprogram-ci');
const project = new ci.Project({
  appid: MP_APPID,
  type: 'miniProgram',
  projectPath: root,
  privateKeyPath: MP_PRIVATE_KEY,
  ignores: ['node_modules/**/*', 'test/**/*', 'scripts/**/*', '.build/**/*'],
});
const result = await ci.upload({
  project,
  version: MP_VERSION,
  desc: MP_DESC,
  robot: Number(MP_ROBOT),
  setting: { useProjectConfig: true },
  onProgressUpdate: (p) => typeof p === 'string' && console.log(p),
});
console.log(JSON.stringify(result.subPackageInfo ?? result, null, 2));
