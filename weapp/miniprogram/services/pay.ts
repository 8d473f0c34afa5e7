/**
 * WeChat Pay's payment sheet, shared by every module that takes money (ordering's orders,
 * booking's deposits): the server answers `wx.requestPayment`'s parameters, the phone opens the
 * sheet. In the main package because a subpackage cannot import another's code.
 */
import type { components } from '../core/api/schema';
import { ApiError } from '../core/errors';

export type WechatPay = components['schemas']['WechatPayDto'];

/**
 * Opens WeChat's payment sheet with the server's prepay parameters. Resolves 'paid' or
 * 'cancelled' (the customer closed the sheet); rejects on any other failure.
 */
export function requestPayment(p: WechatPay): Promise<'paid' | 'cancelled'> {
  return new Promise((resolve, reject) => {
    wx.requestPayment({
      timeStamp: p.timeStamp,
      nonceStr: p.nonceStr,
      package: p.package,
      signType: p.signType as 'RSA',
      paySign: p.paySign,
      success: () => resolve('paid'),
      fail: (e) =>
        /cancel/i.test(e.errMsg) ? resolve('cancelled') : reject(new ApiError({ status: 0, code: 'PAYMENT_FAILED', detail: e.errMsg })),
    });
  });
}

/**
 * Pays with the sheet, then asks the server for the settled state (`refresh`: it checks with
 * WeChat Pay, whose notification may come later than the phone). `current` is what the caller
 * has before paying: kept when the customer closes the sheet, and when the check fails (paid on
 * WeChat's side; the server learns it from the notification).
 */
export async function payThenRefresh<T>(
  p: WechatPay,
  current: T,
  refresh: () => Promise<T>,
): Promise<{ result: T; outcome: 'paid' | 'cancelled' }> {
  const outcome = await requestPayment(p);
  if (outcome === 'cancelled') return { result: current, outcome };
  try {
    return { result: await refresh(), outcome };
  } catch {
    return { result: current, outcome };
  }
}
