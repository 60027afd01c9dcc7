import { describePendingWork } from '../../client/format';

const details = (value: unknown) => ({
  payloads: [{ data: new Uint8Array(Buffer.from(JSON.stringify(value), 'utf8')) }],
});

describe('work in flight', () => {
  it("shows each pending activity's last heartbeat message and any retry", () => {
    expect(
      describePendingWork([
        {
          activityType: { name: 'retrainCandidate' },
          heartbeatDetails: details({ step: 300, total: 859, message: 'epoch 2/4 step 300/859 loss 0.3100' }),
          attempt: 1,
        },
        {
          activityType: { name: 'evaluateFinalModel' },
          heartbeatDetails: details({ done: 1024, total: 12000, message: 't = 3600 s: samples 1–5 of 5' }),
          attempt: 2,
        },
        { activityType: { name: 'evaluateRobustness' }, heartbeatDetails: null, attempt: 1 },
        {
          activityType: { name: 'writeResults' },
          heartbeatDetails: { payloads: [{ data: new Uint8Array([123, 34]) }] },
        },
      ]),
    ).toEqual([
      '    retrainCandidate: epoch 2/4 step 300/859 loss 0.3100',
      '    evaluateFinalModel: t = 3600 s: samples 1–5 of 5 (attempt 2)',
      '    evaluateRobustness: starting',
      '    writeResults: working',
    ]);
    expect(describePendingWork(undefined)).toEqual([]);
  });
});
