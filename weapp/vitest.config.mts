import { defineConfig } from 'vitest/config';

// Three projects: `unit` (core and services, TypeScript sources, a mocked wx), `pages` (real WXML
// pages and components compiled as WeChat does, rendered by miniprogram-simulate in jsdom, with a
// mocked wx and a fake BFF) and `contract` (the typed client against the real server binary).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          globals: true,
        },
      },
      {
        test: {
          name: 'pages',
          include: ['test/pages/**/*.test.ts'],
          environment: 'jsdom',
          globals: true,
          globalSetup: ['test/support/build-setup.ts'],
        },
      },
      {
        test: {
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          environment: 'node',
          globals: true,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
