// vitest globalSetup of the `pages` project: compile once before any page test runs.
// @ts-expect-error plain ESM script without types
import { buildForTests } from '../../scripts/build-test.mjs';

export default function setup(): void {
  buildForTests();
}
