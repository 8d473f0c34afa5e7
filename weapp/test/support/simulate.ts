/**
 * Loads compiled pages and components (.build/miniprogram, made by the `pages` project's global
 * setup) with miniprogram-simulate: real WXML compiled by WeChat's own wcc, real WXSS, the JS
 * WeChat's tooling would produce from our TypeScript.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
export const simulate = require('miniprogram-simulate');
export const ROOT = join(__dirname, '..', '..', '.build', 'miniprogram');

/** The compiled core module `name` (the same instance the pages use). */
export function core<T = any>(name: string): T {
  return require(join(ROOT, 'core', name));
}

/** Clears the state the compiled core (and the main package's services) keep between tests. */
export function resetCore(): void {
  core('boot').resetBoot();
  core('env').resetEnv();
  require(join(ROOT, 'services', 'promotions')).resetPromotions();
}

/** Renders the page or component at `rel` (e.g. "pages/launch/index") attached to a parent. */
export function render(rel: string, props?: Record<string, unknown>): any {
  const id = simulate.load(join(ROOT, rel), { rootPath: ROOT });
  const comp = simulate.render(id, props);
  comp.attach(document.createElement('parent-wrapper'));
  return comp;
}

export function text(comp: any, selector: string): string {
  return (comp.querySelector(selector)?.dom.textContent ?? '').trim();
}

export function texts(comp: any, selector: string): string[] {
  return comp.querySelectorAll(selector).map((c: any) => c.dom.textContent.trim());
}

export async function tap(comp: any, selector: string, index = 0): Promise<void> {
  const el = comp.querySelectorAll(selector)[index];
  if (!el) throw new Error(`nothing matches ${selector}[${index}]`);
  el.dispatchEvent('tap');
  await simulate.sleep(10);
}
