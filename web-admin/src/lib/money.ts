// Money on screen: the server counts integer fen, people read and type yuan.

/** 1234 fen → "12.34". */
export function yuan(fen: bigint | number): string {
  const n = Number(fen)
  return (n / 100).toFixed(2)
}

/** "12.34" yuan → 1234n fen; NaN input gives -1n so the server reports it. */
export function toFen(yuanValue: number | string): bigint {
  const n = Math.round(Number(yuanValue) * 100)
  return Number.isFinite(n) ? BigInt(n) : -1n
}
