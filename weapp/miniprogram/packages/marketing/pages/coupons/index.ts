/**
 * The coupon centre (领券中心): the coupons the shop lets customers claim, each with its terms,
 * validity, how many are left and what the customer already holds of it. A tap claims one
 * coupon under a key of its own (a second tap is a second claim, which the server's limits
 * decide; the client's retries of one tap reuse its key). A refusal is shown in the customer's
 * words, and what it says (none left, the limit held, no longer handed out) shows on the card.
 */
import { newIdempotencyKey } from '../../../../core/client';
import { ApiError } from '../../../../core/errors';
import { strings } from '../../../../core/locale/index';
import { pageUrl, requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';
import { afterClaim, afterRefusal, heldByTemplate, templateView, type CentreEntry, type TemplateView } from '../../services/coupon-view';
import * as marketing from '../../services/marketing';

type Tap = WechatMiniprogram.BaseEvent<Record<string, never>, { id: string }>;

/** The templates shown, with what the customer holds of each; the views are made from them. */
const entries = new WeakMap<object, CentreEntry[]>();

Component({
  behaviors: [themed],
  data: {
    t: strings.couponCentre,
    tc: strings.coupon,
    loggedIn: true,
    loaded: false,
    loading: false,
    error: '',
    templates: [] as TemplateView[],
    nextToken: '',
    /** The template whose claim is on its way. */
    claiming: '',
  },
  methods: {
    async onLoad() {
      if (!(await requireModule('marketing'))) return;
      await this.reload();
    },
    /** Shows `list`; `nextToken` when a page of the centre was read with it. */
    show(list: CentreEntry[], nextToken?: string) {
      entries.set(this, list);
      const now = Date.now();
      this.setData({ templates: list.map((e) => templateView(e, now)) });
      if (nextToken !== undefined) this.setData({ nextToken });
    },
    async reload() {
      if (!(await marketing.hasCustomer(this))) return;
      this.setData({ loading: true, error: '' });
      try {
        const [centre, mine] = await Promise.all([marketing.listCentre(), marketing.listAllCoupons()]);
        const held = heldByTemplate(mine);
        this.show(
          centre.templates.map((terms) => ({ terms, held: held.get(terms.id) ?? 0 })),
          centre.next_page_token ?? '',
        );
        this.setData({ loaded: true, loading: false });
      } catch (e) {
        this.setData({ loading: false, error: marketing.describeError(e) });
      }
    },
    async onMore() {
      const token = this.data.nextToken;
      if (!token || this.data.loading) return;
      this.setData({ loading: true });
      try {
        const [centre, mine] = await Promise.all([marketing.listCentre(token), marketing.listAllCoupons()]);
        const held = heldByTemplate(mine);
        const known = entries.get(this) ?? [];
        const fresh = centre.templates.filter((t) => !known.some((e) => e.terms.id === t.id));
        this.show([...known, ...fresh.map((terms) => ({ terms, held: held.get(terms.id) ?? 0 }))], centre.next_page_token ?? '');
      } catch (e) {
        wx.showToast({ title: marketing.describeError(e), icon: 'none' });
      } finally {
        this.setData({ loading: false });
      }
    },
    async onClaim(e: Tap) {
      const id = e.currentTarget.dataset.id;
      const view = this.data.templates.find((t) => t.id === id);
      if (!view || view.status !== 'open' || this.data.claiming) return;
      this.setData({ claiming: id });
      try {
        await marketing.claim(id, newIdempotencyKey());
        this.show(afterClaim(entries.get(this) ?? [], id));
        wx.showToast({ title: strings.couponCentre.success, icon: 'success' });
      } catch (err) {
        if (err instanceof ApiError) this.show(afterRefusal(entries.get(this) ?? [], id, err.code));
        await marketing.alert(marketing.describeError(err));
      } finally {
        this.setData({ claiming: '' });
      }
    },
    onMine() {
      wx.navigateTo({ url: pageUrl('marketing', 'pages/mine/index') });
    },
    onLogin() {
      return marketing.logIn(this, () => this.reload());
    },
    async onPullDownRefresh() {
      await this.reload();
      wx.stopPullDownRefresh();
    },
  },
});
