"""Losses on class scores (B, classes) and integer labels (B,): value and gradient."""

from __future__ import annotations

import numpy as np


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large scores."""
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(scores, labels):
    """Mean cross-entropy of the softmax, computed from log-sum-exp."""
    z = scores - scores.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    n = len(labels)
    grad = np.exp(log_p)
    grad[np.arange(n), labels] -= 1
    return float(-log_p[np.arange(n), labels].mean()), grad / n


def svm(scores, labels, margin: float = 1.0):
    """Multiclass hinge loss (Weston-Watkins, as CS231n): sum over wrong classes."""
    n = len(labels)
    correct = scores[np.arange(n), labels][:, None]
    slack = np.maximum(0, scores - correct + margin)
    slack[np.arange(n), labels] = 0
    grad = (slack > 0).astype(scores.dtype)
    grad[np.arange(n), labels] = -grad.sum(axis=1)
    return float(slack.sum() / n), grad / n


def mse(scores, labels):
    """Squared error of the softmax probabilities against one-hot targets, batch mean.

    ``0.5 * |softmax(s) - t|^2`` (the Brier score, halved). On raw scores, Adam's first
    steps silenced whole ReLU channels on some seeds (15 of the tiny network's 24 second-layer
    channels in 20 steps of seed 1), so one epoch on 1,000 digits ended anywhere from 0.49
    to 0.86, and ``predict``'s softmax of scores trained towards 0 and 1 left every digit
    "unsure". On probabilities it learns as steadily as cross-entropy does.
    """
    n = len(labels)
    p = softmax(scores)
    diff = p.copy()
    diff[np.arange(n), labels] -= 1  # p - t
    grad = p * (diff - (diff * p).sum(axis=1, keepdims=True))  # through the softmax's Jacobian
    return float(0.5 * (diff**2).sum() / n), grad / n


LOSSES = {"softmax": softmax_cross_entropy, "svm": svm, "mse": mse}


def l2_penalty(layers, lam: float) -> float:
    """``0.5 * lambda * w^2`` summed over every weight (not biases); adds its gradient."""
    if not lam:
        return 0.0
    total = 0.0
    for layer in layers:
        for i in layer.regularized:
            w = layer.params[i]
            total += 0.5 * lam * float((w * w).sum())
            layer.grads[i] = layer.grads[i] + lam * w
    return total
