import { createApp } from 'vue'
import { createPinia } from 'pinia'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import App from './App.vue'
import { i18n } from './locales'
import { makeRouter } from './router'
import { grpcBaseUrl, loadConfig } from './api/config'
import { createTransport, setTransport } from './api/transport'
import { useAuthStore } from './stores/auth'
import './styles.css'

async function start() {
  const app = createApp(App)
  const pinia = createPinia()
  app.use(pinia).use(i18n).use(ElementPlus)
  const config = await loadConfig()
  const auth = useAuthStore()
  setTransport(
    createTransport(grpcBaseUrl(config, window.location), {
      accessToken: () => auth.session?.accessToken,
      expiresAt: () => auth.session?.expiresAt,
      refresh: () => auth.refresh(),
      relogin: () => auth.relogin(),
    }),
  )
  app.use(makeRouter())
  app.mount('#app')
}

start().catch((e: unknown) => {
  document.body.textContent = `MiniModules admin failed to start: ${e instanceof Error ? e.message : String(e)}`
})
