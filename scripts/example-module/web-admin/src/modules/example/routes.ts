// The example module's admin pages: none yet. Found by the router's import.meta.glob, so a
// module's pages need no registration line.
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = []
export default routes
