"""TensorFlow-Python peer of `npm run bench -- tensor`: the same networks as tensor/referenceNet.ts, as a
user would train them in TensorFlow (variables, tf.nn ops, a GradientTape step compiled by tf.function),
timed the same way (batch 64 of 28x28x1, warm-up steps first, images per wall-clock second).

Prints one JSON object: {"net", "threads", "train_img_s", "infer_img_s", "tensorflow_version"}.

Usage: python run.py --net reference|smallcnn|wide --threads 1|2 [--batch 64] [--train-steps 20]
"""
import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402  (the log level must be set before the import)

BN_EPSILON = 1e-3  # tensor/referenceNet.ts BATCH_NORM_EPSILON
BN_MOMENTUM = 0.9  # tensor/referenceNet.ts BATCH_NORM_MOMENTUM


def he_normal(shape, fan_in, seed):
    std = (2.0 / fan_in) ** 0.5
    return tf.Variable(tf.random.truncated_normal(shape, 0.0, 1.0, seed=seed) * std)


class BatchNorm:
    def __init__(self, channels):
        self.gamma = tf.Variable(tf.ones([channels]))
        self.beta = tf.Variable(tf.zeros([channels]))
        self.mean = tf.Variable(tf.zeros([channels]), trainable=False)
        self.variance = tf.Variable(tf.ones([channels]), trainable=False)
        self.trainable = [self.gamma, self.beta]

    def __call__(self, x, training):
        if not training:
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                x, self.gamma, self.beta, self.mean, self.variance, BN_EPSILON, is_training=False
            )
            return y
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            x, self.gamma, self.beta, epsilon=BN_EPSILON, is_training=True
        )
        self.mean.assign(self.mean * BN_MOMENTUM + mean * (1 - BN_MOMENTUM))
        self.variance.assign(self.variance * BN_MOMENTUM + variance * (1 - BN_MOMENTUM))
        return y


class ReferenceNet:
    """stem 3x3 conv -> BN -> relu, 3x3 conv stride 2 -> BN -> relu, depthwise 3x3 -> BN -> relu,
    pointwise 1x1 -> BN -> relu, global average pool, dense 10 (channels x `width`)."""

    def __init__(self, width=1, classes=10):
        c1, c2 = 16 * width, 32 * width
        self.stem = he_normal([3, 3, 1, c1], 9, 1)
        self.reduce = he_normal([3, 3, c1, c2], 9 * c1, 2)
        self.depthwise = he_normal([3, 3, c2, 1], 9, 3)
        self.pointwise = he_normal([1, 1, c2, c2], c2, 4)
        self.dense = he_normal([c2, classes], c2, 5)
        self.bias = tf.Variable(tf.zeros([classes]))
        self.bns = [BatchNorm(c1), BatchNorm(c2), BatchNorm(c2), BatchNorm(c2)]
        self.trainable = [self.stem, self.reduce, self.depthwise, self.pointwise, self.dense, self.bias]
        for bn in self.bns:
            self.trainable += bn.trainable

    def __call__(self, x, training):
        b = self.bns
        h = tf.nn.relu(b[0](tf.nn.conv2d(x, self.stem, 1, "SAME"), training))
        h = tf.nn.relu(b[1](tf.nn.conv2d(h, self.reduce, 2, "SAME"), training))
        h = tf.nn.relu(b[2](tf.nn.depthwise_conv2d(h, self.depthwise, [1, 1, 1, 1], "SAME"), training))
        h = tf.nn.relu(b[3](tf.nn.conv2d(h, self.pointwise, 1, "SAME"), training))
        return tf.matmul(tf.reduce_mean(h, [1, 2]), self.dense) + self.bias


class SmallCnn:
    """conv 3x3 16 -> relu -> max pool 2, conv 3x3 32 -> relu -> max pool 2, conv 3x3 32 -> relu, global
    average pool, dense 10."""

    def __init__(self, classes=10):
        shapes = [(1, 16), (16, 32), (32, 32)]
        self.filters = [he_normal([3, 3, i, o], 9 * i, k + 1) for k, (i, o) in enumerate(shapes)]
        self.biases = [tf.Variable(tf.zeros([o])) for _, o in shapes]
        self.dense = he_normal([32, classes], 32, 9)
        self.bias = tf.Variable(tf.zeros([classes]))
        self.trainable = self.filters + self.biases + [self.dense, self.bias]

    def __call__(self, x, training):
        h = x
        for i, (f, b) in enumerate(zip(self.filters, self.biases)):
            h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, f, 1, "SAME"), b))
            if i < len(self.filters) - 1:
                h = tf.nn.max_pool2d(h, 2, 2, "SAME")
        return tf.matmul(tf.reduce_mean(h, [1, 2]), self.dense) + self.bias


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--net", choices=["reference", "smallcnn", "wide"], required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--train-steps", type=int, default=20)
    parser.add_argument("--infer-steps", type=int, default=20)
    args = parser.parse_args()

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    net = {"reference": lambda: ReferenceNet(), "wide": lambda: ReferenceNet(width=4), "smallcnn": SmallCnn}[
        args.net
    ]()
    images = tf.random.uniform([args.batch, 28, 28, 1], seed=7)
    labels = tf.one_hot(tf.random.uniform([args.batch], 0, 10, tf.int32, seed=8), 10)
    # The same optimizer as the imcnas bench: momentum 0.9, learning rate 0.01 (tf.train.momentum there).
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(y, net(x, True)))
        optimizer.apply_gradients(zip(tape.gradient(loss, net.trainable), net.trainable))
        return loss

    @tf.function
    def infer_step(x):
        return net(x, False)

    for _ in range(args.warmup):
        train_step(images, labels).numpy()
    start = time.perf_counter()
    for _ in range(args.train_steps):
        train_step(images, labels).numpy()
    train = args.batch * args.train_steps / (time.perf_counter() - start)

    infer_step(images).numpy()
    start = time.perf_counter()
    for _ in range(args.infer_steps):
        infer_step(images).numpy()
    infer = args.batch * args.infer_steps / (time.perf_counter() - start)

    print(
        json.dumps(
            {
                "net": args.net,
                "threads": args.threads,
                "train_img_s": round(train, 1),
                "infer_img_s": round(infer, 1),
                "tensorflow_version": tf.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
