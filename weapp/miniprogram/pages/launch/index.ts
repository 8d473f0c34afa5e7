/**
 * The entry page (main package): waits for the boot config — at once when one is stored — and
 * opens the first tab. Without a config and without network it says so and offers a retry.
 */
import * as boot from '../../core/boot';
import { describe } from '../../core/errors';
import { strings } from '../../core/locale/index';
import { homeUrl } from '../../core/modules';
import { themed } from '../../core/page';

Component({
  behaviors: [themed],
  data: { t: strings.app, loading: true, error: '' },
  methods: {
    onLoad() {
      void this.open();
    },
    async open() {
      this.setData({ loading: true, error: '' });
      try {
        const config = await boot.ready();
        wx.reLaunch({ url: homeUrl(config) });
      } catch (e) {
        this.setData({ loading: false, error: describe(e) });
      }
    },
    onRetry() {
      void this.open();
    },
  },
});
