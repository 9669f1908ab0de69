"""Losses of the learned boundary detector."""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["ConsensusBalancedCrossEntropy"]


@keras.saving.register_keras_serializable(package="keras_edges")
class ConsensusBalancedCrossEntropy(keras.losses.Loss):
    """Class-balanced cross-entropy against the annotators' consensus (HED/RCF).

    The target is the fraction of annotators who drew a boundary at each pixel. A pixel
    is a positive where at least `threshold` of them agree, a negative where none did,
    and ignored in between (and where the target is negative: padding). Positives are
    weighted by the negatives' share of the image, negatives by `negative_weight` times
    the positives' share, so the rare boundary pixels count as much as the background.

    References:
        1. S. Xie and Z. Tu, "Holistically-Nested Edge Detection", ICCV 2015.
        2. Y. Liu et al., "Richer Convolutional Features for Edge Detection", CVPR 2017
           (the consensus threshold and the ignored band).

    Args:
        threshold: The annotator fraction from which a pixel is a positive.
        negative_weight: RCF's lambda, the extra weight of the negatives (1.1).
    """

    def __init__(
        self, threshold=0.3, negative_weight=1.1, name="consensus_bce", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        self.threshold = float(threshold)
        self.negative_weight = float(negative_weight)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        positive = ops.cast(y_true >= self.threshold, y_pred.dtype)
        negative = ops.cast(ops.equal(y_true, 0.0), y_pred.dtype)
        axes = (1, 2, 3)
        count_positive = ops.sum(positive, axis=axes, keepdims=True)
        count_negative = ops.sum(negative, axis=axes, keepdims=True)
        total = ops.maximum(count_positive + count_negative, 1.0)
        weight = (
            positive * count_negative / total
            + negative * self.negative_weight * count_positive / total
        )
        # stable log(1 + exp(-|z|)) form of the cross-entropy with logits
        cross_entropy = (
            ops.maximum(y_pred, 0.0)
            - y_pred * positive
            + ops.log1p(ops.exp(-ops.abs(y_pred)))
        )
        pixels = ops.cast(ops.prod(ops.shape(y_pred)[1:]), y_pred.dtype)
        return ops.sum(weight * cross_entropy, axis=axes) / pixels

    def get_config(self):
        return {
            **super().get_config(),
            "threshold": self.threshold,
            "negative_weight": self.negative_weight,
        }
