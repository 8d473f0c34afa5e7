// A refused field reaches the customer in words built from its reason and params, never the BFF's
// English description.
import { ApiError, fieldMessage, fromResponse } from '../../miniprogram/core/errors';

describe('field refusals', () => {
  it('are worded from reason and params', () => {
    expect(fieldMessage({ field: 'remark', description: 'at most 200 characters', reason: 'TOO_LONG', params: { max: '200' } })).toBe(
      '内容过长，最多 200 个字',
    );
    expect(fieldMessage({ field: 'n', description: 'x', reason: 'BELOW_MINIMUM', params: { min: '1', max: '9' } })).toBe(
      '数值须在 1 到 9 之间',
    );
    expect(fieldMessage({ field: 'phone', description: 'x', reason: 'INVALID_FORMAT', params: { format: 'phone' } })).toBe(
      '请填写正确的手机号',
    );
    expect(fieldMessage({ field: 'x', description: 'x', reason: 'SOMETHING_NEW' })).toBeUndefined();
  });

  it('become the message of a 400, else the generic one', () => {
    const body = {
      code: 'INVALID_ARGUMENT',
      message: 'remark: at most 200 characters',
      details: { fields: [{ field: 'remark', description: 'at most 200 characters', reason: 'TOO_LONG', params: { max: '200' } }] },
    };
    expect(fromResponse(400, body).message).toBe('内容过长，最多 200 个字');
    const unknown = { ...body, details: { fields: [{ field: 'remark', description: 'at most 200 characters', reason: 'NEW' }] } };
    expect(fromResponse(400, unknown).message).toBe('填写的信息有误，请检查后重试');
    expect(new ApiError({ status: 400, code: 'INVALID_ARGUMENT' }).message).not.toContain('characters');
  });
});
