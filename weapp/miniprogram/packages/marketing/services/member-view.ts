/**
 * How the member card reads on screen: the level ("普通会员" below the first), the points, the
 * level's discount in 折 and its perks, the way to the next level in the unit the shop's levels
 * are reached by (yuan of spend or points), how points are earned, and the points history in the
 * customer's words ("订单支付 +46", "积分抵扣 -500", "积分退回 +500", "预约完成 +20", "门店调整 +50 ·
 * 生日礼"). Pure: times are read at the UTC offset
 * given (the phone's, by default).
 */
import { format, strings } from '../../../core/locale/index';
import { rate, stamp, yuanShort } from './coupon-view';
import type { MarketingConfig, Member, PointsEntry } from './marketing';

const M = strings.memberCard;

export interface CardView {
  /** The level's name, or "普通会员". */
  level: string;
  points: number;
  /** "下单享9.5折"; empty for a level without a discount. */
  discount: string;
  perks: string;
  /** "再消费12.5元升级为金卡会员", "再获得120积分升级为金卡会员", "已是最高等级"; empty without levels. */
  progress: string;
  /** How far from the level reached (or none) to the next one, 0 to 100; 100 at the top. */
  percent: number;
  /** "每消费1元得2积分"; empty when the shop gives no points. */
  earn: string;
}

/** What the shop's levels are reached by, for `m`: lifetime spend in fen, or lifetime points. */
export function levelMetric(m: Member, levelsBy: MarketingConfig['levelsBy']): number {
  return levelsBy === 'points' ? m.lifetime_points : m.lifetime_spend_fen;
}

/** The way to the next level: what is left in the levels' unit, and how far along it is. */
export function progress(m: Member, levelsBy: MarketingConfig['levelsBy']): { text: string; percent: number } {
  const next = m.next_level;
  if (!next) return m.level ? { text: M.top, percent: 100 } : { text: '', percent: 0 };
  const metric = levelMetric(m, levelsBy);
  const left = next.threshold - metric;
  // The server found this level ahead by the same metric; nothing left means the config the
  // phone holds reads the levels by the other one (changed since): say nothing rather than "0".
  if (left <= 0) return { text: '', percent: 100 };
  const text =
    levelsBy === 'points'
      ? format(M.nextByPoints, { n: left, level: next.name_zh })
      : format(M.nextBySpend, { amount: yuanShort(left), level: next.name_zh });
  const from = m.level?.threshold ?? 0;
  const span = next.threshold - from;
  const percent = span > 0 ? Math.floor((Math.max(0, metric - from) * 100) / span) : 0;
  return { text, percent: Math.max(0, Math.min(100, percent)) };
}

export function cardView(m: Member, config: MarketingConfig): CardView {
  const level = m.level ?? undefined;
  const { text, percent } = progress(m, config.levelsBy);
  return {
    level: level?.name_zh || M.basic,
    points: m.points,
    discount: level && level.discount_percent > 0 ? format(M.discount, { rate: rate(level.discount_percent) }) : '',
    perks: level?.perks ?? '',
    progress: text,
    percent,
    earn: config.pointsPerYuan > 0 ? format(M.earn, { n: config.pointsPerYuan }) : '',
  };
}

export interface EntryView {
  /** Its place in the history (entries carry no id of their own). */
  key: string;
  /** "订单支付 +46", "订单退款 -46", "门店调整 +50 · 生日礼". */
  text: string;
  /** Points added (shown in the shop's colour) rather than taken. */
  gain: boolean;
  time: string;
  /** "余额 96". */
  balance: string;
}

/** A change of points with its sign: "+46", "-46", "0". */
export function signed(delta: number): string {
  return delta > 0 ? `+${delta}` : String(delta);
}

export function entryView(e: PointsEntry, key: string, offset?: number): EntryView {
  const kind = M.kinds[e.kind] ?? M.kindFallback;
  const reason = e.reason.trim();
  return {
    key,
    text: `${kind} ${signed(e.delta)}${reason ? ` · ${reason}` : ''}`,
    gain: e.delta > 0,
    time: stamp(e.create_time, offset),
    balance: format(M.balance, { n: e.balance_after }),
  };
}

/** The history as listed (newest first), each entry keyed by its place. */
export function historyView(entries: readonly PointsEntry[], offset?: number): EntryView[] {
  return entries.map((e, i) => entryView(e, String(i), offset));
}
