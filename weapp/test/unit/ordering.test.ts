import { orderingConfig, tableFromQuery } from '../../miniprogram/packages/ordering/services/ordering';

describe('table from the QR code', () => {
  it('reads the scene of a mini-program code', () => {
    expect(tableFromQuery({ scene: encodeURIComponent('t=A12') })).toBe('A12');
    expect(tableFromQuery({ scene: 'table%3D7%26x%3D1' })).toBe('7');
  });
  it('reads a plain table parameter and refuses junk', () => {
    expect(tableFromQuery({ table: '15' })).toBe('15');
    expect(tableFromQuery({ table: '<script>' })).toBeUndefined();
    expect(tableFromQuery({})).toBeUndefined();
  });
});

describe('ordering config', () => {
  it('reads the public config with the spec defaults for what is missing', () => {
    expect(orderingConfig({ modules: [{ id: 'ordering', config: { fulfilment_modes: ['delivery'], packaging_fee_fen: 200 } }] })).toEqual({
      fulfilmentModes: ['delivery'],
      paymentMethods: ['wechat_pay'],
      minOrderFen: 0,
      packagingFeeFen: 200,
      cancelWindowMinutes: 5,
    });
    expect(orderingConfig(undefined).fulfilmentModes).toEqual(['dine_in', 'takeaway']);
  });
});
