/**
 * The user centre: who is logged in, login (wx.login, no form), phone binding with WeChat's
 * getPhoneNumber button, links to the customer's pages in enabled modules, logout.
 */
import * as auth from '../../../../core/auth';
import * as boot from '../../../../core/boot';
import { describe } from '../../../../core/errors';
import { strings } from '../../../../core/locale/index';
import { isEnabled, pageUrl } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import * as identity from '../../../../services/identity';

const unsubscribers = new WeakMap<object, () => void>();

interface Link {
  url: string;
  text: string;
}

/** What the shop calls its members (identity's public `member_name`, 会员称呼). */
function memberName(config: boot.BootConfig | undefined): string {
  const c: Record<string, unknown> = config?.modules.find((m) => m.id === 'identity')?.config ?? {};
  const v = c.member_name;
  return typeof v === 'string' && v.trim() ? v.trim() : strings.me.member;
}

function links(config: boot.BootConfig | undefined): Link[] {
  const out: Link[] = [];
  if (isEnabled(config, 'ordering')) out.push({ url: pageUrl('ordering', 'pages/orders/index'), text: strings.me.orders });
  if (isEnabled(config, 'booking')) out.push({ url: pageUrl('booking', 'pages/bookings/index'), text: strings.me.bookings });
  if (isEnabled(config, 'marketing')) {
    out.push({ url: pageUrl('marketing', 'pages/mine/index'), text: strings.me.coupons });
    out.push({ url: pageUrl('marketing', 'pages/member/index'), text: strings.me.memberCard });
  }
  if (isEnabled(config, 'identity')) out.push({ url: pageUrl('identity', 'pages/profile/index'), text: strings.me.profile });
  return out;
}

Component({
  behaviors: [themed],
  data: {
    t: strings.me,
    self: pageUrl('tenant', 'pages/me/index'),
    user: null as auth.Me | null,
    busy: false,
    links: [] as Link[],
    memberName: strings.me.member as string,
  },
  lifetimes: {
    attached() {
      const offUser = auth.onUserChange((u) => this.setData({ user: u ?? null }));
      const offConfig = boot.onConfigChange((c) => this.setData({ links: links(c), memberName: memberName(c) }));
      unsubscribers.set(this, () => {
        offUser();
        offConfig();
      });
    },
    detached() {
      unsubscribers.get(this)?.();
    },
  },
  methods: {
    onLoad() {
      const config = boot.config();
      this.setData({ user: auth.currentUser() ?? null, links: links(config), memberName: memberName(config) });
      boot.ready().then(
        (c) => this.setData({ links: links(c), memberName: memberName(c) }),
        () => undefined,
      );
    },
    onShow() {
      if (auth.currentUser()) identity.getMe().catch(() => undefined);
    },
    async onLogin() {
      if (this.data.busy) return;
      this.setData({ busy: true });
      try {
        await auth.login();
      } catch (e) {
        wx.showToast({ title: describe(e), icon: 'none' });
      } finally {
        this.setData({ busy: false });
      }
    },
    async onPhone(e: WechatMiniprogram.CustomEvent<{ code?: string; errMsg?: string }>) {
      const code = e.detail.code;
      if (!code) {
        wx.showToast({ title: strings.me.phoneDenied, icon: 'none' });
        return;
      }
      try {
        await identity.bindPhone(code);
        wx.showToast({ title: strings.me.phoneBound, icon: 'success' });
      } catch (err) {
        wx.showToast({ title: describe(err), icon: 'none' });
      }
    },
    onLink(e: WechatMiniprogram.BaseEvent<Record<string, never>, { url: string }>) {
      wx.navigateTo({ url: e.currentTarget.dataset.url });
    },
    async onLogout() {
      await identity.logout();
      wx.showToast({ title: strings.me.loggedOut, icon: 'none' });
    },
  },
});
