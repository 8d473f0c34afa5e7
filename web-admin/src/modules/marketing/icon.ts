// The module's sidebar icon (collected by layouts/AdminLayout.vue, so a collapsed sidebar tells
// the modules apart).
export { Discount as default } from '@element-plus/icons-vue'
