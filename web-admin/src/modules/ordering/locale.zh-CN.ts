// The ordering module's words in 简体中文, merged into the dashboard's messages by
// src/locales/index.ts: a module's pages bring their own texts. locale.en-US.ts must have
// exactly the same keys (its type checks it).
export default {
  ordering: {
    board: '订单看板',
    live: '实时',
    connecting: '连接中',
    retrying: '重连中',
    stopped: '已断开',
    columns: { unpaid: '待支付', new: '待接单', kitchen: '制作中', ready: '待取餐', done: '已结束' },
    status: {
      pendingPayment: '待支付',
      paid: '已支付',
      accepted: '已接单',
      preparing: '制作中',
      ready: '待取餐',
      completed: '已完成',
      cancelled: '已取消',
      refunding: '退款中',
      refunded: '已退款',
    },
    actions: {
      confirmPayment: '确认收款',
      accept: '接单',
      startPreparing: '开始制作',
      markReady: '出餐',
      complete: '完成',
      cancel: '取消订单',
      refund: '退款',
    },
    confirm: {
      cancel: '确定取消订单 {number}？已支付的订单将原路退款。',
      refund: '确定为订单 {number} 全额退款？',
    },
    dineIn: '堂食',
    table: '桌号 {table}',
    takeaway: '外带',
    delivery: '外送',
    counter: '到店付款',
    wechatPay: '微信支付',
    total: '合计',
    discountKinds: { promotion: '促销', memberLevel: '会员折扣', coupon: '优惠券', points: '积分抵扣' },
    remark: '备注',
    empty: '暂无订单',
    done: '已{action}：{number}',
    newOrder: '新订单 {number}',
  },
  reasons: {
    ordering: {
      ORDER_NOT_FOUND: '订单不存在',
      INVALID_TRANSITION: '该订单{status}，不能{action}',
      PRICE_CHANGED: '价格有变动：合计现为 ¥{actual}，原为 ¥{expected}',
    },
  },
}
