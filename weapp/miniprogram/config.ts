/**
 * Where the BFF is, per mini-program version. The one file to edit for a deployment that does not
 * use ext.json; a platform uploading one template for many merchants sets `apiBase` in ext.json
 * instead (see core/env.ts). `develop` points at `scripts/run.sh` on the developer's machine
 * (DevTools: 详情 → 本地设置 → 不校验合法域名).
 */
export const API_BASE: Record<'develop' | 'trial' | 'release', string> = {
  develop: 'http://127.0.0.1:8080',
  trial: 'https://api.minimodules.example',
  release: 'https://api.minimodules.example',
};
