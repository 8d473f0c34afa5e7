// A shop's industry is one of the server's (crates/modules/tenant/src/domain.rs), worded by the
// locale (`tenants.industries.<id>`), never typed freely.
export const INDUSTRIES = ['restaurant', 'salon', 'retail', 'other'] as const

/** The industry in words, or the stored id when the server knows one this build does not. */
export function industryName(id: string, t: (key: string) => string): string {
  return (INDUSTRIES as readonly string[]).includes(id) ? t(`tenants.industries.${id}`) : id
}
