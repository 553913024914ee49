"""Neural networks as people write them with plain NumPy: parameters as lists of (W, b)
tuples, dicts or namedtuples, loops over layers and time steps, helpers with defaults."""
from collections import namedtuple

import numpy as np

from . import Case


def init_layers(rng, sizes, scale=0.5):
    return [(scale * rng.normal(size=(m, n)), scale * rng.normal(size=n))
            for m, n in zip(sizes[:-1], sizes[1:])]


def relu(z):
    return np.maximum(z, 0.0)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def log_softmax(logits):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


# --- multilayer perceptrons ------------------------------------------------------------

def mlp_squared_error(params, inputs, targets):
    """A tanh network; the loop rebinds ``inputs`` layer after layer."""
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return np.sum((outputs - targets) ** 2)


def mlp_classifier_loss(params, inputs, labels):
    """Hidden layers in a loop, the last layer unpacked from ``params[-1]``."""
    activations = inputs
    for W, b in params[:-1]:
        activations = np.tanh(activations @ W + b)
    final_W, final_b = params[-1]
    logits = activations @ final_W + final_b
    return -np.mean(np.sum(log_softmax(logits) * labels, axis=1))


def dict_mlp_loss(params, x, y):
    """Two layers with named weights, ReLU written with np.maximum."""
    hidden = relu(x.dot(params["W1"]) + params["b1"])
    prediction = hidden.dot(params["W2"]) + params["b2"]
    return 0.5 * np.mean((prediction - y) ** 2)


def regularized_loss(params, x, y, weight_decay=1e-2):
    """Data term plus an L2 penalty summed with a generator expression."""
    data = mlp_squared_error(params, x, y)
    penalty = sum(np.sum(W ** 2) for W, _ in params)
    return data + weight_decay * penalty


def enumerate_layers_loss(params, x, y):
    """``enumerate`` and ``len(params)``: no nonlinearity after the last layer."""
    h = x
    for i, (W, b) in enumerate(params):
        h = h @ W + b
        if i < len(params) - 1:
            h = np.tanh(h)
    return np.sum((h - y) ** 2) / len(x)


Layer = namedtuple("Layer", ["weights", "bias"])


def namedtuple_net(layers, x):
    h = x
    for layer in layers:
        h = np.tanh(h @ layer.weights + layer.bias)
    return np.sum(h ** 2)


def residual_stack(weights, x):
    """A residual network: a plain list of square matrices."""
    h = x
    for W in weights:
        h = h + np.tanh(h @ W)
    return np.mean(h ** 2)


def dense(x, W, b, nonlinearity=np.tanh):
    return nonlinearity(x @ W + b)


def autoencoder_loss(W_enc, b_enc, W_dec, b_dec, x):
    """Encode and decode through a helper whose default nonlinearity is np.tanh."""
    code = dense(x, W_enc, b_enc)
    reconstruction = dense(code, W_dec, b_dec, nonlinearity=sigmoid)
    return np.sum((reconstruction - x) ** 2)


# --- models with time steps ------------------------------------------------------------

def rnn_loss(params, xs, ys):
    """A vanilla RNN over the rows of ``xs``; the hidden state starts at zeros."""
    hidden = np.zeros(params["Whh"].shape[0])
    loss = 0.0
    for t in range(len(xs)):
        hidden = np.tanh(params["Wxh"] @ xs[t] + params["Whh"] @ hidden + params["bh"])
        output = params["Why"] @ hidden
        loss = loss + np.sum((output - ys[t]) ** 2)
    return loss / len(xs)


def lstm_final_state(W, U, b, xs):
    """An LSTM cell with the four gates stacked in one matrix, split by slicing."""
    n = U.shape[1]
    h = np.zeros(n)
    c = np.zeros(n)
    for x in xs:
        gates = W @ x + U @ h + b
        i = sigmoid(gates[:n])
        f = sigmoid(gates[n:2 * n])
        o = sigmoid(gates[2 * n:3 * n])
        g = np.tanh(gates[3 * n:])
        c = f * c + i * g
        h = o * np.tanh(c)
    return np.sum(h) + 0.5 * np.sum(c ** 2)


def gru_loss(params, xs):
    Wz, Wr, Wh = params
    h = np.zeros(Wz.shape[0])
    for x in xs:
        hx = np.concatenate([h, x])
        z = sigmoid(Wz @ hx)
        r = sigmoid(Wr @ hx)
        candidate = np.tanh(Wh @ np.concatenate([r * h, x]))
        h = (1 - z) * h + z * candidate
    return np.sum(h ** 2)


# --- attention, normalization, convolution ---------------------------------------------

def attention(q, k, v):
    """Scaled dot-product attention, softmax over the keys."""
    d = q.shape[-1]
    scores = q @ k.T / np.sqrt(d)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return np.sum((weights @ v) ** 2)


def layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    normalized = (x - mean) / np.sqrt(var + eps)
    return np.sum(np.tanh(gamma * normalized + beta))


def conv1d_loss(kernel, signal):
    """A valid 1-d convolution written as a loop over output positions."""
    width = len(kernel)
    out = np.zeros(len(signal) - width + 1)
    for i in range(len(out)):
        out[i] = np.sum(signal[i:i + width] * kernel)
    return np.sum(out ** 2)


def logistic_regression_nll(w, b, X, y):
    """Labels in {-1, +1}; log(1 + exp(-margin)) written with np.logaddexp."""
    margins = y * (X @ w + b)
    return np.sum(np.logaddexp(0.0, -margins))


class TinyClassifier:
    """A model object: the loss is a method, hyperparameters are attributes."""

    def __init__(self, l2=0.1, temperature=2.0):
        self.l2 = l2
        self.temperature = temperature

    def logits(self, W, X):
        return X @ W / self.temperature

    def loss(self, W, X, Y):
        log_probs = log_softmax(self.logits(W, X))
        return -np.sum(log_probs * Y) + self.l2 * np.sum(W * W)


classifier = TinyClassifier()


def _onehot(rng, n, k):
    return np.eye(k)[rng.integers(0, k, size=n)]


CASES = [
    Case("mlp_squared_error", mlp_squared_error,
         lambda rng: (init_layers(rng, [3, 4, 2]), rng.normal(size=(5, 3)),
                      rng.normal(size=(5, 2)))),
    Case("mlp_classifier_loss", mlp_classifier_loss,
         lambda rng: (init_layers(rng, [3, 4, 4, 3]), rng.normal(size=(4, 3)), _onehot(rng, 4, 3))),
    Case("dict_mlp_loss", dict_mlp_loss,
         lambda rng: ({"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4) + 0.1,
                       "W2": rng.normal(size=(4, 1)), "b2": rng.normal(size=1)},
                      rng.normal(size=(6, 3)), rng.normal(size=(6, 1)))),
    Case("regularized_loss", regularized_loss,
         lambda rng: (init_layers(rng, [2, 3, 1]), rng.normal(size=(4, 2)),
                      rng.normal(size=(4, 1)))),
    Case("enumerate_layers_loss", enumerate_layers_loss,
         lambda rng: (init_layers(rng, [2, 3, 3, 1]), rng.normal(size=(4, 2)),
                      rng.normal(size=(4, 1)))),
    Case("namedtuple_net", namedtuple_net,
         lambda rng: ([Layer(*p) for p in init_layers(rng, [3, 3, 2])], rng.normal(size=(2, 3)))),
    Case("residual_stack", residual_stack,
         lambda rng: ([0.5 * rng.normal(size=(3, 3)) for _ in range(3)], rng.normal(size=(4, 3)))),
    Case("autoencoder_loss", autoencoder_loss,
         lambda rng: (rng.normal(size=(4, 2)), rng.normal(size=2), rng.normal(size=(2, 4)),
                      rng.normal(size=4), rng.uniform(0.1, 0.9, size=(3, 4))), (0, 1, 2, 3)),
    Case("rnn_loss", rnn_loss,
         lambda rng: ({"Wxh": 0.5 * rng.normal(size=(3, 2)), "Whh": 0.5 * rng.normal(size=(3, 3)),
                       "bh": 0.1 * rng.normal(size=3), "Why": rng.normal(size=(1, 3))},
                      rng.normal(size=(4, 2)), rng.normal(size=(4, 1)))),
    Case("lstm_final_state", lstm_final_state,
         lambda rng: (0.5 * rng.normal(size=(8, 3)), 0.5 * rng.normal(size=(8, 2)),
                      0.1 * rng.normal(size=8), rng.normal(size=(3, 3))), (0, 1, 2)),
    Case("gru_loss", gru_loss,
         lambda rng: ((0.5 * rng.normal(size=(2, 4)), 0.5 * rng.normal(size=(2, 4)),
                       0.5 * rng.normal(size=(2, 4))), rng.normal(size=(3, 2)))),
    Case("attention", attention,
         lambda rng: (rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))),
         (0, 1, 2)),
    Case("layer_norm", layer_norm,
         lambda rng: (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=4)), (0, 1, 2)),
    Case("conv1d_loss", conv1d_loss,
         lambda rng: (rng.normal(size=3), rng.normal(size=7)), (0, 1)),
    Case("logistic_regression_nll", logistic_regression_nll,
         lambda rng: (rng.normal(size=3), 0.3, rng.normal(size=(6, 3)),
                      np.sign(rng.normal(size=6))), (0, 1)),
    Case("method_loss", classifier.loss,
         lambda rng: (rng.normal(size=(3, 2)), rng.normal(size=(4, 3)), _onehot(rng, 4, 2))),
]
