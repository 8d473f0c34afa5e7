/**
 * App entry: starts the boot config (from storage at once when there is one), logs the customer
 * in silently, revalidates the config whenever the app comes to the foreground, and sends deep
 * links to pages this version does not ship to the "not available" page.
 */
import { ensureSession } from './core/auth';
import * as boot from './core/boot';
import { parseRoute, unavailableUrl } from './core/modules';

App({
  onLaunch() {
    boot.start().catch(() => undefined);
    // wx.login needs no tap, so a returning customer is logged in before they need it.
    ensureSession().catch(() => undefined);
  },
  onShow() {
    void boot.refresh();
  },
  onPageNotFound(res) {
    wx.redirectTo({ url: unavailableUrl(parseRoute(res.path)?.module ?? '') });
  },
});
