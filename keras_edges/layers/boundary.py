"""The learned boundary model's layers: pixel-difference and dilated convolutions, resizing."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

__all__ = [
    "BilinearUpsampling",
    "CropToReference",
    "DilatedDepthwiseConv2D",
    "PadToMultiple",
    "PixelDifferenceConv2D",
    "pixel_difference_matrix",
]

PIXEL_DIFFERENCES = ("cv", "cd", "ad")

# The 8-neighbour ring of a 3x3 kernel, clockwise from the top-left corner, as flat indices.
_RING = (0, 1, 2, 5, 8, 7, 6, 3)


def pixel_difference_matrix(kind: str) -> np.ndarray:
    """The 9x9 linear map from a 3x3 kernel's weights to its equivalent plain kernel.

    A pixel-difference convolution (Su et al., ICCV 2021) multiplies its weights with
    differences of pixels instead of pixels. Each kind is a fixed linear map of the
    (flattened, row-major) kernel, so it folds into a plain convolution:

    - ``"cv"``: plain convolution, ``sum_i w_i x_i``;
    - ``"cd"``: central differences, ``sum_i w_i (x_i - x_c)``: the centre weight
      becomes ``w_c - sum_i w_i``;
    - ``"ad"``: angular differences around the ring, ``sum_i w_i (x_i - x_cw(i))``,
      ``cw(i)`` the clockwise neighbour of ``i``; the centre weight is unused.

    Example:
    >>> weights = np.arange(9, dtype="float32")
    >>> (pixel_difference_matrix("cd") @ weights).reshape(3, 3)[1, 1]
    np.float32(-32.0)
    """
    matrix = np.eye(9, dtype=np.float32)
    if kind == "cd":
        matrix[4] -= 1.0
    elif kind == "ad":
        matrix[4, 4] = 0.0
        for position, index in enumerate(_RING):
            matrix[_RING[(position + 1) % 8], index] -= 1.0  # w_i multiplies -x_cw(i)
    elif kind != "cv":
        raise ValueError(
            "Invalid value for argument `kind`. Expected one of "
            f"{list(PIXEL_DIFFERENCES)}. Received: kind={kind!r}"
        )
    return matrix


def _depthwise_same(inputs, kernel, dilation_rate=1):
    """`ops.depthwise_conv(inputs, kernel, padding="same", dilation_rate=...)`, channels last.

    With the TensorFlow backend a dilated kernel runs TensorFlow's native dilated
    depthwise kernel, about twice as fast on a CPU as the space-to-batch emulation that
    `tf.nn.depthwise_conv2d` wraps around it, with the same output. Its gradient is the
    emulation's: the native op's own CPU gradient is wrong for dilations above 1
    (TensorFlow 2.21).
    """
    rate = (dilation_rate,) * 2 if isinstance(dilation_rate, int) else dilation_rate
    rate = tuple(int(r) for r in rate)
    if keras.backend.backend() != "tensorflow" or rate == (1, 1):
        return ops.depthwise_conv(inputs, kernel, padding="same", dilation_rate=rate)
    import tensorflow as tf

    def emulated(x, k):
        return tf.nn.depthwise_conv2d(x, k, [1, 1, 1, 1], "SAME", dilations=rate)

    @tf.custom_gradient
    def native(x, k):
        def gradient(upstream):
            with tf.GradientTape() as tape:
                tape.watch([x, k])
                result = emulated(x, k)
            return tape.gradient(result, [x, k], output_gradients=upstream)

        result = tf.raw_ops.DepthwiseConv2dNative(
            input=x,
            filter=k,
            strides=[1, 1, 1, 1],
            padding="SAME",
            dilations=[1, *rate, 1],
        )
        return result, gradient

    return native(inputs, ops.cast(kernel, inputs.dtype))


@keras.saving.register_keras_serializable(package="keras_edges")
class DilatedDepthwiseConv2D(keras.layers.DepthwiseConv2D):
    """`keras.layers.DepthwiseConv2D`, faster when dilated on TensorFlow.

    The same layer, weights and output. With the TensorFlow backend, stride 1,
    `"same"` padding and channels last, a dilated kernel runs TensorFlow's native
    dilated depthwise kernel, about twice as fast on a CPU as the space-to-batch
    emulation that `tf.nn.depthwise_conv2d` wraps around it; anything else runs the
    Keras layer's own call.

    Example:
    >>> layer = DilatedDepthwiseConv2D(3, padding="same", dilation_rate=3)
    >>> image = np.random.default_rng(0).uniform(size=(1, 9, 9, 2)).astype("float32")
    >>> fast = np.asarray(layer(image))
    >>> plain = keras.layers.DepthwiseConv2D(3, padding="same", dilation_rate=3)
    >>> plain.build(image.shape); plain.set_weights(layer.get_weights())
    >>> bool(np.allclose(fast, np.asarray(plain(image)), atol=1e-6))
    True
    """

    def call(self, inputs):
        if (
            self.padding != "same"
            or tuple(self.strides) != (1, 1)
            or self.data_format != "channels_last"
        ):
            return super().call(inputs)
        outputs = _depthwise_same(inputs, self.kernel, self.dilation_rate)
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        return outputs if self.activation is None else self.activation(outputs)


@keras.saving.register_keras_serializable(package="keras_edges")
class PixelDifferenceConv2D(keras.layers.Layer):
    """A 3x3 depthwise convolution over pixel differences (PiDiNet's PDC).

    The weights are stored as learned; the call folds them into the equivalent plain
    kernel with `pixel_difference_matrix(kind)` (a 9x9 constant), so inference and
    export run one ordinary depthwise convolution.

    Reference:
        Z. Su et al., "Pixel Difference Networks for Efficient Edge Detection",
        ICCV 2021.

    Args:
        kind: `"cv"` (plain), `"cd"` (central) or `"ad"` (angular differences).
        dilation_rate: Dilation of the 3x3 kernel.
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: A tensor `(batch, height, width, channels)`; the output has its shape
            (zero padding, `"same"`).

    Example:
    >>> layer = PixelDifferenceConv2D("cd")
    >>> flat = np.full((1, 5, 5, 2), 0.5, "float32")
    >>> float(np.abs(np.asarray(layer(flat))[:, 1:-1, 1:-1]).max()) < 1e-6  # flat: zero
    True
    """

    def __init__(self, kind="cv", dilation_rate=1, **kwargs):
        super().__init__(**kwargs)
        pixel_difference_matrix(kind)  # validates
        self.kind = kind
        self.dilation_rate = int(dilation_rate)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(3, 3, channels, 1),
            initializer="he_normal",
        )

    def plain_kernel(self):
        """The equivalent plain depthwise kernel `(3, 3, channels, 1)` of the weights."""
        # The folding matrix is made here, so that a traced graph holds it as a
        # constant (kept on the layer, it would be a captured tensor: an extra input
        # of an exported ONNX graph).
        fold = ops.convert_to_tensor(
            pixel_difference_matrix(self.kind), dtype=self.compute_dtype
        )
        channels = ops.shape(self.kernel)[2]
        flat = ops.reshape(ops.cast(self.kernel, self.compute_dtype), (9, -1))
        return ops.reshape(ops.matmul(fold, flat), (3, 3, channels, 1))

    def call(self, inputs):
        return _depthwise_same(inputs, self.plain_kernel(), self.dilation_rate)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "kind": self.kind,
            "dilation_rate": self.dilation_rate,
        }


@keras.saving.register_keras_serializable(package="keras_edges")
class PadToMultiple(keras.layers.Layer):
    """Pad height and width at the bottom and right, by edge replication, to a multiple.

    Args:
        multiple: The size that height and width are rounded up to.
        **kwargs: Base layer arguments.

    Call arguments:
        inputs: A tensor `(batch, height, width, channels)`, any height and width >= 1.

    Example:
    >>> np.asarray(PadToMultiple(4)(np.arange(3.0).reshape(1, 1, 3, 1)))[0, :, :, 0]
    array([[0., 1., 2., 2.],
           [0., 1., 2., 2.],
           [0., 1., 2., 2.],
           [0., 1., 2., 2.]], dtype=float32)
    """

    def __init__(self, multiple=8, **kwargs):
        super().__init__(**kwargs)
        self.multiple = int(multiple)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def call(self, inputs):
        shape = ops.shape(inputs)
        for axis in (1, 2):
            size = shape[axis]
            padded = ((size + self.multiple - 1) // self.multiple) * self.multiple
            index = ops.minimum(ops.arange(padded), size - 1)
            inputs = ops.take(inputs, index, axis=axis)
        return inputs

    def compute_output_shape(self, input_shape):
        def rounded(size):
            return None if size is None else -(-size // self.multiple) * self.multiple

        return (
            input_shape[0],
            rounded(input_shape[1]),
            rounded(input_shape[2]),
            input_shape[3],
        )

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="keras_edges")
class CropToReference(keras.layers.Layer):
    """Crop a tensor's height and width (from the top-left) to those of a reference tensor.

    Call arguments:
        inputs: `[tensor, reference]`, both `(batch, height, width, channels)`.

    Example:
    >>> tuple(CropToReference()([np.zeros((1, 8, 8, 1)), np.zeros((1, 5, 3, 3))]).shape)
    (1, 5, 3, 1)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = [
            keras.layers.InputSpec(ndim=4),
            keras.layers.InputSpec(ndim=4),
        ]

    def call(self, inputs):
        tensor, reference = inputs
        shape = ops.shape(reference)
        return tensor[:, : shape[1], : shape[2], :]

    def compute_output_shape(self, input_shape):
        tensor, reference = input_shape
        return (tensor[0], reference[1], reference[2], tensor[3])


def _upsample_axis(x, scale: int, axis: int):
    """Bilinear (half-pixel centres, clamped) upsampling of one axis by an integer factor."""
    size = ops.shape(x)[axis]
    index = ops.arange(size)
    following = ops.take(x, ops.minimum(index + 1, size - 1), axis=axis)
    preceding = ops.take(x, ops.maximum(index - 1, 0), axis=axis)
    phases = []
    for phase in range(scale):
        offset = (phase + 0.5) / scale - 0.5  # where output `scale*j + phase` samples
        neighbour = following if offset >= 0 else preceding
        phases.append((1.0 - abs(offset)) * x + abs(offset) * neighbour)
    stacked = ops.stack(phases, axis=axis + 1)
    shape = ops.shape(x)
    new_shape = [shape[i] for i in range(4)]
    new_shape[axis] = size * scale
    return ops.reshape(stacked, new_shape)


@keras.saving.register_keras_serializable(package="keras_edges")
class BilinearUpsampling(keras.layers.Layer):
    """Upsample height and width by an integer factor, bilinearly, for any input size.

    Equal to `keras.layers.UpSampling2D(scale, interpolation="bilinear")` (half-pixel
    centres, edge values clamped), but written with index arithmetic so that it also
    works when the height and width are unknown until run time (dynamic shapes in
    `tf.function`, SavedModel and TFLite exports).

    Args:
        scale: The integer factor.
        **kwargs: Base layer arguments.

    Call arguments:
        inputs: A tensor `(batch, height, width, channels)`.

    Example:
    >>> np.asarray(BilinearUpsampling(2)(np.array([[[[0.0], [4.0]]]])))[0, 0, :, 0]
    array([0., 1., 3., 4.], dtype=float32)
    """

    def __init__(self, scale=2, **kwargs):
        super().__init__(**kwargs)
        self.scale = int(scale)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def call(self, inputs):
        return _upsample_axis(_upsample_axis(inputs, self.scale, 1), self.scale, 2)

    def compute_output_shape(self, input_shape):
        def scaled(size):
            return None if size is None else size * self.scale

        return (
            input_shape[0],
            scaled(input_shape[1]),
            scaled(input_shape[2]),
            input_shape[3],
        )

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}
