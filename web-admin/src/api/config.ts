// Where the dashboard finds grpc-web. The server answers /admin/config.json; without a configured
// URL the dashboard calls its own origin, whose HTTP port answers grpc-web too, so the same build
// works on localhost, a LAN address or behind one HTTPS host or proxy with no setting at all.

export interface DemoLogin {
  appid: string
  loginName: string
  password: string
}

export interface AdminConfig {
  grpcWebUrl: string | null
  environment: 'dev' | 'production'
  demo: DemoLogin | null
}

let loaded: AdminConfig | undefined

export async function loadConfig(): Promise<AdminConfig> {
  if (loaded) return loaded
  const res = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: 'no-store' })
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`)
  loaded = (await res.json()) as AdminConfig
  return loaded
}

export function grpcBaseUrl(config: AdminConfig, location: Pick<Location, 'origin'>): string {
  return (config.grpcWebUrl ?? location.origin).replace(/\/$/, '')
}

export function currentConfig(): AdminConfig | undefined {
  return loaded
}
