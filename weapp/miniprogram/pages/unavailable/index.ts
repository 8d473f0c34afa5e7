/**
 * Where a deep link lands when its module is switched off for this shop, or not shipped in this
 * version: says so plainly and offers the way home.
 */
import * as boot from '../../core/boot';
import { strings } from '../../core/locale/index';
import { goHome } from '../../core/modules';
import { themed } from '../../core/page';

Component({
  behaviors: [themed],
  data: { t: strings.unavailable, module: '' },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ module: query.module ?? '' });
    },
    onHome() {
      goHome(boot.config());
    },
  },
});
