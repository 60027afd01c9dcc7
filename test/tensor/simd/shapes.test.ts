import {
  DEPTHWISE_SHAPE_PARAMETERS,
  POOL_SHAPE_PARAMETERS,
  shapeArguments,
  type DepthwiseShape,
} from '../../../tensor/simd/shapes';

describe('SIMD kernel shape parameters', () => {
  it('orders the depthwise walk as the pooling walk with the dilations before the padding', () => {
    expect(DEPTHWISE_SHAPE_PARAMETERS.filter((name) => !name.startsWith('dilation'))).toEqual([
      ...POOL_SHAPE_PARAMETERS,
    ]);
    expect(DEPTHWISE_SHAPE_PARAMETERS.slice(-4)).toEqual(['dilationHeight', 'dilationWidth', 'top', 'left']);
  });

  it('lays out a shape as arguments in parameter order', () => {
    const shape = Object.fromEntries(
      DEPTHWISE_SHAPE_PARAMETERS.map((name, index) => [name, 100 + index]),
    ) as DepthwiseShape;
    expect(shapeArguments(DEPTHWISE_SHAPE_PARAMETERS, shape)).toEqual(
      DEPTHWISE_SHAPE_PARAMETERS.map((_, index) => 100 + index),
    );
    // The pooling kernels read the same fields of the same shape, without the dilations.
    expect(shapeArguments(POOL_SHAPE_PARAMETERS, shape)).toEqual([
      100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 112, 113,
    ]);
  });
});
