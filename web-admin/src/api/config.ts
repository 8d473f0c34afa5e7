// Where the dashboard finds grpc-web. The server answers /admin/config.json; without a configured
// URL the gRPC port on the host the browser already uses is taken, so the same build works on
// localhost, a LAN address or behind a proxy that sets admin.grpc_web_url.

export interface DemoLogin {
  appid: string
  loginName: string
  password: string
}

export interface AdminConfig {
  grpcWebUrl: string | null
  grpcPort: number
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

export function grpcBaseUrl(config: AdminConfig, location: Pick<Location, 'protocol' | 'hostname'>): string {
  if (config.grpcWebUrl) return config.grpcWebUrl.replace(/\/$/, '')
  const host = location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname
  return `${location.protocol}//${host}:${config.grpcPort}`
}

export function currentConfig(): AdminConfig | undefined {
  return loaded
}
