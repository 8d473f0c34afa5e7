/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The platform serves the built dashboard under /admin/. In dev mode (`npm run dev`), Vite serves
// it on :5173 and asks the running server (MM_HTTP, default http://localhost:8080) for
// /admin/config.json and passes the dashboard's grpc-web calls (same origin) on to it.
const server = process.env.MM_HTTP ?? 'http://localhost:8080'

export default defineConfig({
  base: '/admin/',
  plugins: [vue()],
  // vue-i18n's feature flags: Composition API only, no devtools in production.
  define: {
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: { proxy: { '/admin/config.json': server, '^/(minimodules|grpc)\\.': server } },
  build: {
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        manualChunks: { 'element-plus': ['element-plus'], vue: ['vue', 'vue-router', 'pinia', 'vue-i18n'] },
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
})
