/**
 * The customer's profile: nickname (WeChat's nickname input) and phone binding. Avatars need an
 * upload route the BFF does not have yet, so the avatar is shown, not edited.
 */
import * as auth from '../../../../core/auth';
import { describe } from '../../../../core/errors';
import { strings } from '../../../../core/locale/index';
import { requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import * as identity from '../../../../services/identity';

Component({
  behaviors: [themed],
  data: { t: strings.profile, tm: strings.me, user: null as auth.Me | null, nickname: '', saving: false },
  methods: {
    async onLoad() {
      if (!(await requireModule('identity'))) return;
      try {
        const user = (await auth.ensureSession()) ? await identity.getMe() : undefined;
        this.setData({ user: user ?? null, nickname: user?.nickname ?? '' });
      } catch (e) {
        wx.showToast({ title: describe(e), icon: 'none' });
      }
    },
    onNickname(e: WechatMiniprogram.Input) {
      this.setData({ nickname: e.detail.value });
    },
    async onSave() {
      if (this.data.saving) return;
      this.setData({ saving: true });
      try {
        const user = await identity.updateProfile({ nickname: this.data.nickname.trim() });
        this.setData({ user });
        wx.showToast({ title: strings.profile.saved, icon: 'success' });
      } catch (e) {
        wx.showToast({ title: describe(e), icon: 'none' });
      } finally {
        this.setData({ saving: false });
      }
    },
    async onPhone(e: WechatMiniprogram.CustomEvent<{ code?: string }>) {
      if (!e.detail.code) {
        wx.showToast({ title: strings.me.phoneDenied, icon: 'none' });
        return;
      }
      try {
        this.setData({ user: await identity.bindPhone(e.detail.code) });
      } catch (err) {
        wx.showToast({ title: describe(err), icon: 'none' });
      }
    },
  },
});
