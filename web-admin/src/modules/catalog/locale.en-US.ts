// The catalog module's words in English; the type makes it carry exactly zh-CN's keys.
import type { Shape } from '@/locales/shape'
import type zh from './locale.zh-CN'

const en: Shape<typeof zh> = {
  catalog: {
    name: 'Name',
    products: 'Products',
    categories: 'Categories',
    newProduct: 'New product',
    editProduct: 'Edit product',
    newCategory: 'New category',
    editCategory: 'Edit category',
    category: 'Category',
    allCategories: 'All categories',
    nameZh: 'Chinese name',
    nameEn: 'English name',
    description: 'Description',
    images: 'Image URLs',
    imageHint: 'HTTPS image URLs; the first is the cover',
    tags: 'Tags',
    onSale: 'On sale',
    offSale: 'Off sale',
    sortOrder: 'Sort order',
    skus: 'SKUs',
    specs: 'Spec values',
    specName: 'Spec',
    specValue: 'Value',
    price: 'Price (yuan)',
    stock: 'Stock',
    unlimited: 'Unlimited',
    lowStock: 'Low stock',
    lowStockHint: 'A SKU has {n} or fewer left (low-stock threshold)',
    addSku: 'Add SKU',
    addSpec: 'Add spec value',
    addImage: 'Add image',
    deleteConfirm: 'Delete product “{name}”?',
    categoryDeleteConfirm: 'Delete category “{name}”?',
    needCategory: 'Create a category first',
    cover: 'Cover',
  },
  reasons: {
    catalog: {
      CATEGORY_NOT_FOUND: 'Category not found',
      PRODUCT_NOT_FOUND: 'Product not found',
      CATEGORY_NOT_EMPTY: 'This category still has {products} product(s); move or delete them first',
      NOT_ON_SALE: 'The product is not on sale',
    },
  },
}

export default en
