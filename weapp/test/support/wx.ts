/**
 * A mocked `wx` for unit and page tests: in-memory storage, a configurable account and ext.json,
 * `wx.login` codes, recorded navigation and toasts, and `wx.request` answered either by a fake
 * BFF (a function) or by the real network through Node's fetch (contract tests).
 */
export interface FakeRequest {
  url: string;
  path: string;
  query: URLSearchParams;
  method: string;
  header: Record<string, string>;
  data: unknown;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
  header?: Record<string, string>;
}

/** Answers a request; throw `networkError()` (or return 'fail') to simulate no answer. */
export type Handler = (req: FakeRequest) => FakeResponse | 'fail' | Promise<FakeResponse | 'fail'>;

export interface WxMockOptions {
  appid?: string;
  envVersion?: 'develop' | 'trial' | 'release';
  ext?: Record<string, unknown> | null;
  handler?: Handler;
  /** Send requests over the real network with fetch. */
  fetch?: boolean;
  loginCode?: () => string | Promise<string>;
  /** How wx.requestPayment ends (default: paid), or a function deciding it (e.g. paying a fake). */
  payment?: 'paid' | 'cancel' | 'fail' | ((args: any) => Promise<'paid' | 'cancel' | 'fail'>);
  /** What the customer answers in wx.showModal (default: confirm). */
  confirm?: boolean;
  /** How wx.requestSubscribeMessage ends for every template asked (default: reject); 'fail' = the call fails. */
  subscribe?: 'accept' | 'reject' | 'fail';
  /** What wx.chooseAddress gives (default: an address), or the errMsg it fails with. */
  address?: { fail: string };
  /** The page stack getCurrentPages() answers, bottom first, as routes ("packages/x/pages/y/index"). */
  stack?: string[];
}

export interface WxMock {
  storage: Map<string, unknown>;
  requests: FakeRequest[];
  calls: { api: string; args: any }[];
  options: WxMockOptions;
  wx: any;
  /** Navigation calls (navigateTo/redirectTo/reLaunch) as "api url". */
  navigations(): string[];
  toasts(): string[];
}

function headerLower(h: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k.toLowerCase()] = v;
  return out;
}

export function installWx(options: WxMockOptions = {}): WxMock {
  const storage = new Map<string, unknown>();
  const requests: FakeRequest[] = [];
  const calls: { api: string; args: any }[] = [];
  const record =
    (api: string) =>
    (args: any = {}) => {
      calls.push({ api, args });
      args?.success?.({ errMsg: `${api}:ok` });
      args?.complete?.({ errMsg: `${api}:ok` });
    };

  const mock: WxMock = {
    storage,
    requests,
    calls,
    options,
    wx: undefined,
    navigations: () =>
      calls.filter((c) => ['navigateTo', 'redirectTo', 'reLaunch', 'switchTab'].includes(c.api)).map((c) => `${c.api} ${c.args.url}`),
    toasts: () => calls.filter((c) => c.api === 'showToast').map((c) => String(c.args.title)),
  };

  const wx: any = {
    getAccountInfoSync: () => ({
      miniProgram: { appId: options.appid ?? 'wxaccount000000', envVersion: options.envVersion ?? 'develop', version: '' },
    }),
    getExtConfigSync: () => options.ext ?? {},
    getStorageSync: (k: string) => (storage.has(k) ? structuredClone(storage.get(k)) : ''),
    setStorageSync: (k: string, v: unknown) => void storage.set(k, structuredClone(v)),
    removeStorageSync: (k: string) => void storage.delete(k),
    login: (args: any) => {
      calls.push({ api: 'login', args });
      Promise.resolve(options.loginCode ? options.loginCode() : 'code-1').then(
        (code) => args.success?.({ code, errMsg: 'login:ok' }),
        (e) => args.fail?.({ errMsg: `login:fail ${e}` }),
      );
    },
    request: (args: any) => {
      const url = new URL(args.url);
      const req: FakeRequest = {
        url: args.url,
        path: url.pathname,
        query: url.searchParams,
        method: args.method ?? 'GET',
        header: headerLower(args.header),
        data: args.data,
      };
      requests.push(req);
      const answer = options.fetch ? viaFetch(req) : Promise.resolve(options.handler ? options.handler(req) : { status: 404 });
      answer.then(
        (res) => {
          if (res === 'fail') {
            args.fail?.({ errMsg: 'request:fail net::ERR_INTERNET_DISCONNECTED' });
            return;
          }
          args.success?.({
            statusCode: res.status,
            data: res.body === undefined ? '' : structuredClone(res.body),
            header: res.header ?? {},
            errMsg: 'request:ok',
          });
        },
        (e) => args.fail?.({ errMsg: `request:fail ${e}` }),
      );
      return { abort() {} };
    },
  };
  wx.requestPayment = (args: any) => {
    calls.push({ api: 'requestPayment', args });
    const decide = options.payment ?? 'paid';
    void (typeof decide === 'function' ? decide(args) : Promise.resolve(decide)).then((outcome) => {
      if (outcome === 'paid') args.success?.({ errMsg: 'requestPayment:ok' });
      else args.fail?.({ errMsg: outcome === 'cancel' ? 'requestPayment:fail cancel' : 'requestPayment:fail system error' });
    });
  };
  wx.requestSubscribeMessage = (args: any) => {
    calls.push({ api: 'requestSubscribeMessage', args });
    const answer = options.subscribe ?? 'reject';
    setTimeout(() => {
      if (answer === 'fail') args.fail?.({ errMsg: 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.' });
      else args.success?.({ errMsg: 'requestSubscribeMessage:ok', ...Object.fromEntries(args.tmplIds.map((id: string) => [id, answer])) });
    }, 0);
  };
  wx.chooseAddress = (args: any) => {
    calls.push({ api: 'chooseAddress', args });
    setTimeout(() => {
      if (options.address) args.fail?.({ errMsg: options.address.fail });
      else
        args.success?.({
          userName: '张三',
          telNumber: '13800000000',
          provinceName: '上海市',
          cityName: '上海市',
          countyName: '徐汇区',
          detailInfo: '漕溪北路 1 号',
          errMsg: 'chooseAddress:ok',
        });
    }, 0);
  };
  wx.showModal = (args: any) => {
    calls.push({ api: 'showModal', args });
    setTimeout(() => args.success?.({ confirm: options.confirm ?? true, cancel: !(options.confirm ?? true), errMsg: 'showModal:ok' }), 0);
  };
  for (const api of [
    'navigateTo',
    'redirectTo',
    'reLaunch',
    'switchTab',
    'navigateBack',
    'showToast',
    'showLoading',
    'hideLoading',
    'setNavigationBarColor',
    'setNavigationBarTitle',
    'setBackgroundColor',
    'stopPullDownRefresh',
    'makePhoneCall',
    'openSetting',
    'hideHomeButton',
  ]) {
    wx[api] = record(api);
  }
  mock.wx = wx;
  (globalThis as any).wx = wx;
  (globalThis as any).getCurrentPages = () => (options.stack ?? []).map((route) => ({ route }));
  return mock;
}

async function viaFetch(req: FakeRequest): Promise<FakeResponse | 'fail'> {
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.header,
      body: req.method === 'GET' || req.data === undefined ? undefined : JSON.stringify(req.data),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : '';
    } catch {
      // not JSON
    }
    const header: Record<string, string> = {};
    res.headers.forEach((v, k) => (header[k] = v));
    return { status: res.status, body, header };
  } catch {
    return 'fail';
  }
}

/** Stores a logged-in customer's session for `appid`, as a login would (tokens valid for now). */
export function signIn(w: WxMock, appid: string, user: Record<string, unknown>): void {
  w.storage.set(`mm:${appid}:session`, {
    accessToken: 'at',
    accessExpiresAt: Date.now() + 600_000,
    refreshToken: 'rt',
    refreshExpiresAt: Date.now() + 86_400_000,
    user,
  });
}

/** The booking module as the boot config lists it when a shop has it on, with `config`. */
export function bookingModule(config: Record<string, unknown> = {}): any {
  return {
    id: 'booking',
    version: '0.1.0',
    name: { 'zh-CN': '预约', en: 'Booking' },
    pages: [
      { path: 'pages/services/index', title: { 'zh-CN': '预约', en: 'Book' } },
      { path: 'pages/slots/index', title: { 'zh-CN': '选择时间', en: 'Pick a time' } },
      { path: 'pages/bookings/index', title: { 'zh-CN': '我的预约', en: 'My bookings' } },
    ],
    config,
  };
}

/** The marketing module as the boot config lists it when a shop has it on, with its public `config`. */
export function marketingModule(config: Record<string, unknown> = {}): any {
  return {
    id: 'marketing',
    version: '0.1.0',
    name: { 'zh-CN': '营销', en: 'Marketing' },
    pages: [
      { path: 'pages/coupons/index', title: { 'zh-CN': '领券中心', en: 'Coupon centre' } },
      { path: 'pages/mine/index', title: { 'zh-CN': '我的优惠券', en: 'My coupons' } },
      { path: 'pages/member/index', title: { 'zh-CN': '会员卡', en: 'Member card' } },
    ],
    config,
  };
}

/** A boot config like the BFF's, for tests. */
export function bootConfig(over: Partial<Record<string, unknown>> = {}): any {
  return {
    tenant_id: 't1',
    slug: 'demo',
    display_name: '示例餐厅',
    display_name_en: 'Demo',
    industry: 'restaurant',
    theme: { primary_color: '#E4393C', secondary_color: '#FFB400', background_color: '#FFF8F0', text_color: '#333333', logo_url: '' },
    modules: [
      {
        id: 'tenant',
        version: '0.1.0',
        name: { 'zh-CN': '店铺与模块', en: 'Shop' },
        pages: [
          { path: 'pages/home/index', title: { 'zh-CN': '首页', en: 'Home' } },
          { path: 'pages/me/index', title: { 'zh-CN': '我的', en: 'Me' } },
        ],
        config: { announcement: '欢迎光临', contact_phone: '021-1234', address: '' },
      },
      {
        id: 'identity',
        version: '0.1.0',
        name: { 'zh-CN': '会员与账号', en: 'Members' },
        pages: [{ path: 'pages/profile/index', title: { 'zh-CN': '个人资料', en: 'Profile' } }],
        config: {},
      },
      {
        id: 'catalog',
        version: '0.1.0',
        name: { 'zh-CN': '商品目录', en: 'Catalog' },
        pages: [
          { path: 'pages/products/index', title: { 'zh-CN': '商品', en: 'Products' } },
          { path: 'pages/product/index', title: { 'zh-CN': '商品详情', en: 'Product' } },
        ],
        config: {},
      },
      {
        id: 'ordering',
        version: '0.1.0',
        name: { 'zh-CN': '点单', en: 'Ordering' },
        pages: [
          { path: 'pages/menu/index', title: { 'zh-CN': '点单', en: 'Menu' } },
          { path: 'pages/cart/index', title: { 'zh-CN': '购物车', en: 'Cart' } },
          { path: 'pages/orders/index', title: { 'zh-CN': '订单', en: 'Orders' } },
          { path: 'pages/order/index', title: { 'zh-CN': '订单详情', en: 'Order' } },
        ],
        config: { fulfilment_modes: ['dine_in', 'takeaway', 'delivery'], min_order_fen: 0, packaging_fee_fen: 100 },
      },
    ],
    tabs: [
      { module: 'tenant', page: 'pages/home/index', text: { 'zh-CN': '首页', en: 'Home' }, icon: 'home', order: 0 },
      { module: 'ordering', page: 'pages/menu/index', text: { 'zh-CN': '点单', en: 'Menu' }, icon: 'menu', order: 10 },
      { module: 'booking', page: 'pages/services/index', text: { 'zh-CN': '预约', en: 'Book' }, icon: 'calendar', order: 20 },
      { module: 'ordering', page: 'pages/orders/index', text: { 'zh-CN': '订单', en: 'Orders' }, icon: 'orders', order: 50 },
      { module: 'tenant', page: 'pages/me/index', text: { 'zh-CN': '我的', en: 'Me' }, icon: 'user', order: 100 },
    ],
    version: 7,
    ...over,
  };
}

/** A menu like the BFF's: coffee with two specs, a sold-out cake, a plain water. */
export function menu(): any {
  return {
    version: 3,
    sections: [
      {
        id: 'c1',
        name_zh: '咖啡',
        name_en: 'Coffee',
        products: [
          {
            id: 'p-latte',
            name_zh: '拿铁',
            name_en: 'Latte',
            description: '浓缩咖啡与牛奶',
            image_urls: [],
            tags: ['热销'],
            skus: [
              {
                id: 's-latte-m-hot',
                specs: [
                  { spec: '杯型', value: '中杯' },
                  { spec: '温度', value: '热' },
                ],
                price_fen: 2500,
                available: true,
              },
              {
                id: 's-latte-l-hot',
                specs: [
                  { spec: '杯型', value: '大杯' },
                  { spec: '温度', value: '热' },
                ],
                price_fen: 2800,
                available: true,
              },
              {
                id: 's-latte-l-ice',
                specs: [
                  { spec: '杯型', value: '大杯' },
                  { spec: '温度', value: '冰' },
                ],
                price_fen: 2800,
                available: false,
              },
            ],
          },
          {
            id: 'p-water',
            name_zh: '矿泉水',
            name_en: 'Water',
            description: '',
            image_urls: [],
            tags: [],
            skus: [{ id: 's-water', specs: [], price_fen: 300, available: true }],
          },
        ],
      },
      {
        id: 'c2',
        name_zh: '甜点',
        name_en: 'Dessert',
        products: [
          {
            id: 'p-cake',
            name_zh: '芝士蛋糕',
            name_en: 'Cheesecake',
            description: '',
            image_urls: [],
            tags: [],
            skus: [{ id: 's-cake', specs: [], price_fen: 3200, available: false }],
          },
        ],
      },
    ],
  };
}

/** Lets pending promise callbacks and timers run. */
export function flush(ms = 0): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
