"""Progressive GAN networks (Karras et al. 2018) in Keras 3: config dataclass and the two networks.

Level 0 draws 4x4 images; level k draws 4 * 2**k. Both networks own the blocks of every level from the
start (so checkpoints always hold the same weights); `call(..., level, alpha)` uses the blocks up to
`level` and fades the newest one in with `alpha` (0 = the previous level's output upsampled, 1 = the
new block alone).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import keras
from keras import ops

from generator import BundleError


@dataclass(frozen=True)
class PGGANConfig:
    resolution: int = 64
    latent_dim: int = 128
    fmap_base: int = 512
    fmap_max: int = 128
    fmap_min: int = 16
    mbstd_group: int = 4

    def __post_init__(self) -> None:
        if self.resolution < 4 or self.resolution & (self.resolution - 1):
            raise BundleError(f"resolution={self.resolution} must be a power of two >= 4")
        if self.latent_dim < 1:
            raise BundleError(f"latent_dim={self.latent_dim} must be positive")

    @property
    def max_level(self) -> int:
        return int(math.log2(self.resolution)) - 2

    def channels(self, level: int) -> int:
        return max(self.fmap_min, min(self.fmap_max, self.fmap_base // 2 ** (level + 1)))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PGGANConfig:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def _lrelu(x):
    return ops.leaky_relu(x, negative_slope=0.2)


class PixelNorm(keras.layers.Layer):
    """Normalises each pixel's feature vector to unit length (stops G's magnitudes from escalating)."""

    def call(self, x):
        return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + 1e-8)


class EqualDense(keras.layers.Layer):
    """Dense layer with equalized learning rate: N(0,1) weights, He scale applied at run time."""

    def __init__(self, units: int, gain: float = math.sqrt(2), **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.gain = gain

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.scale = self.gain / math.sqrt(fan_in)
        self.w = self.add_weight(shape=(fan_in, self.units), initializer=keras.initializers.RandomNormal(stddev=1.0), name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def call(self, x):
        return ops.matmul(x, self.w * self.scale) + self.b


class EqualConv2D(keras.layers.Layer):
    """'same' convolution with equalized learning rate."""

    def __init__(self, filters: int, kernel: int = 3, gain: float = math.sqrt(2), **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel = kernel
        self.gain = gain

    def build(self, input_shape):
        fan_in = self.kernel * self.kernel * int(input_shape[-1])
        self.scale = self.gain / math.sqrt(fan_in)
        shape = (self.kernel, self.kernel, int(input_shape[-1]), self.filters)
        self.w = self.add_weight(shape=shape, initializer=keras.initializers.RandomNormal(stddev=1.0), name="w")
        self.b = self.add_weight(shape=(self.filters,), initializer="zeros", name="b")

    def call(self, x):
        return ops.conv(x, self.w * self.scale, strides=1, padding="same") + self.b


class MinibatchStddev(keras.layers.Layer):
    """Appends the mean standard deviation across a group of samples as one feature map."""

    def __init__(self, group: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.group = group

    def call(self, x):
        n, h, w, c = x.shape
        group = max(g for g in range(1, min(self.group, n) + 1) if n % g == 0)
        y = ops.reshape(x, (group, n // group, h, w, c))
        y = y - ops.mean(y, axis=0, keepdims=True)
        y = ops.sqrt(ops.mean(ops.square(y), axis=0) + 1e-8)
        y = ops.mean(y, axis=(1, 2, 3))
        y = ops.tile(ops.reshape(y, (n // group, 1, 1, 1)), (group, h, w, 1))
        return ops.concatenate([x, y], axis=-1)


def upsample2x(x):
    return ops.repeat(ops.repeat(x, 2, axis=1), 2, axis=2)


def downsample2x(x):
    return ops.average_pool(x, pool_size=2, strides=2, padding="valid")


class Generator(keras.layers.Layer):
    def __init__(self, config: PGGANConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        c0 = config.channels(0)
        self.norm = PixelNorm()
        self.dense = EqualDense(16 * c0, gain=math.sqrt(2) / 4, name="g_dense")
        self.blocks = [[EqualConv2D(c0, name="g0_conv")]]
        for level in range(1, config.max_level + 1):
            ch = config.channels(level)
            self.blocks.append([EqualConv2D(ch, name=f"g{level}_conv1"), EqualConv2D(ch, name=f"g{level}_conv2")])
        self.to_rgb = [EqualConv2D(3, kernel=1, gain=1.0, name=f"g{lv}_rgb") for lv in range(config.max_level + 1)]

    def build(self, input_shape):
        # Sub-layers build lazily on their first call; each level uses a different subset.
        pass

    def _features(self, z, level):
        c0 = self.config.channels(0)
        x = self.norm(_lrelu(ops.reshape(self.dense(self.norm(z)), (-1, 4, 4, c0))))
        for lv in range(level + 1):
            if lv:
                x = upsample2x(x)
            for conv in self.blocks[lv]:
                x = self.norm(_lrelu(conv(x)))
            if lv == level - 1:
                previous = x
        return x, (previous if level else None)

    def call(self, z, level=None, alpha=1.0):
        level = self.config.max_level if level is None else level
        x, previous = self._features(z, level)
        rgb = self.to_rgb[level](x)
        if level == 0:
            return rgb
        old = upsample2x(self.to_rgb[level - 1](previous))
        return old + (rgb - old) * alpha

    def build_all(self) -> None:
        self(ops.zeros((2, self.config.latent_dim)), level=self.config.max_level)
        for level in range(self.config.max_level):
            self(ops.zeros((2, self.config.latent_dim)), level=level)


class Discriminator(keras.layers.Layer):
    def __init__(self, config: PGGANConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        c0 = config.channels(0)
        self.from_rgb = [EqualConv2D(config.channels(lv), kernel=1, name=f"d{lv}_rgb")
                         for lv in range(config.max_level + 1)]
        self.blocks: list[list[EqualConv2D] | None] = [None]
        for level in range(1, config.max_level + 1):
            self.blocks.append([EqualConv2D(config.channels(level), name=f"d{level}_conv1"),
                                EqualConv2D(config.channels(level - 1), name=f"d{level}_conv2")])
        self.mbstd = MinibatchStddev(config.mbstd_group)
        self.final_conv = EqualConv2D(c0, name="d0_conv")
        self.final_dense = EqualDense(c0, name="d0_dense")
        self.out = EqualDense(1, gain=1.0, name="d0_out")

    def build(self, input_shape):
        pass

    def call(self, images, level=None, alpha=1.0):
        level = self.config.max_level if level is None else level
        x = _lrelu(self.from_rgb[level](images))
        for lv in range(level, 0, -1):
            for conv in self.blocks[lv] or ():  # blocks[0] is None; lv >= 1 here
                x = _lrelu(conv(x))
            x = downsample2x(x)
            if lv == level:
                skip = _lrelu(self.from_rgb[level - 1](downsample2x(images)))
                x = skip + (x - skip) * alpha
        x = _lrelu(self.final_conv(self.mbstd(x)))
        x = _lrelu(self.final_dense(ops.reshape(x, (-1, 16 * x.shape[-1]))))
        return self.out(x)

    def build_all(self) -> None:
        for level in range(self.config.max_level + 1):
            size = 4 * 2**level
            self(ops.zeros((4, size, size, 3)), level=level)

