/** The customer's orders. Filled in when the ordering BFF routes land. */
import { strings } from '../../../../core/locale/index';
import { requireModule } from '../../../../core/modules';
import { themed } from '../../../../core/page';

Component({
  behaviors: [themed],
  data: { t: strings.orders },
  methods: {
    async onLoad() {
      await requireModule('ordering');
    },
  },
});
