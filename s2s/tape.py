"""A runtime tape with PyTorch's autograd semantics, driven by the rule registry.

:class:`Tensor` wraps a NumPy array.  Operations on tensors that require a gradient are
recorded as they run, one backward node per call, and :meth:`Tensor.backward` walks the
recorded graph in reverse, calling each rule's VJP functions from
:data:`s2s.rules.REGISTRY`.  No derivative formula lives in this module: an operation
without a rule raises :class:`s2s.errors.MissingRuleError` when a gradient would have
to flow through it.

Plain NumPy code works on tensors: ufuncs and Python operators reach
:meth:`Tensor.__array_ufunc__`, other NumPy functions (``np.sum``, ``np.linalg.norm``,
``np.where``...) reach :meth:`Tensor.__array_function__`, and indexing goes through the
``operator.getitem`` rule.  Every public ndarray attribute and method (``x.real``,
``x.max()``) resolves through the registry's ``attributes`` and ``methods``: a rule is
recorded, a declared-zero attribute gives its plain value, and one without either raises
:class:`~s2s.errors.MissingRuleError` when it would hand out a tracked tensor's values.
What follows PyTorch:

* ``grad_fn`` nodes are named after the rule (``MulBackward0``) and expose
  ``next_functions``; leaves that require a gradient get an ``AccumulateGrad`` node
  whose ``variable`` is the leaf;
* gradients accumulate into ``.grad`` of leaves across calls to ``backward``;
* ``backward`` frees the values a node saved unless ``retain_graph=True``; a second
  pass through a node whose VJP reads those values raises, while nodes of ``linear``
  rules (add, sum, indexing...) keep only shapes and may be traversed again;
* ``with no_grad():`` records nothing;
* a function of several results (``np.linalg.eigh``, ``svd``, ``slogdet``, ``qr``,
  ``np.divmod``, ``np.split``) is one node: it returns NumPy's own container (the named
  tuple ``EighResult``, a tuple, a list) of tensors sharing that ``grad_fn``, each with
  its output number, and its VJPs receive one cotangent per result (None for a result
  nothing depends on);
* only floating-point tensors can require a gradient;
* ``np.asarray(t)`` and ``float(t)`` of a tensor that requires grad raise while
  recording (they would drop its gradient), as ``t.numpy()`` does in PyTorch; here
  ``t.numpy()`` and ``t.detach()`` are the explicit ways out of the graph.

Where this tape differs from PyTorch: ``.data`` is the NumPy array itself; comparisons
and other boolean results are plain NumPy boolean arrays; reductions take NumPy's
``axis``/``keepdims`` arguments; ``size`` is NumPy's element count (``numel()`` also
exists); in-place operations are refused while recording on tensors that require grad
(they are allowed under ``no_grad``, e.g. for parameter updates); gradients of
gradients (``create_graph``) and ``retain_grad`` are not supported.

:func:`vjp_with_tape` runs a plain NumPy function under the tape and returns its value
and a reusable pullback; it is the fallback of source transformation.
"""
from __future__ import annotations

import inspect
import operator
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .errors import (ArrayOperationError, InputError, MissingRuleError, S2SError, TapeError,
                     UnsupportedError, missing_rule_from)
from .library import scipy_caller
from .rules import REGISTRY, Rule
from .rules.domains import NotDifferentiated
from .rules.operators import DUNDERS
from .runtime import RuleDomainError, holds_complex, is_dispatched_array, unbroadcast

__all__ = [
    "AccumulateGrad",
    "BackwardNode",
    "Node",
    "Tensor",
    "detach_if_tensor",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "tensor",
    "vjp_with_tape",
]

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the graph "
    "are freed when you call .backward(). Specify retain_graph=True if you need to "
    "backward through the graph a second time."
)
_NO_GRAD_MESSAGE = "element 0 of tensors does not require grad and does not have a grad_fn"
_SCALAR_MESSAGE = "grad can be implicitly created only for scalar outputs"
_FLOAT_MESSAGE = "Only Tensors of floating point and complex dtype can require gradients"
_LEAF_IN_PLACE_MESSAGE = (
    "a leaf Variable that requires grad is being used in an in-place operation.")
_IN_PLACE_MESSAGE = (
    "the s2s tape does not record in-place operations on tensors that require grad; "
    "write `y = y + x` instead of `y += x`, or run the update under `with s2s.no_grad():`"
)

# Dtypes PyTorch leaves out of a tensor's repr (its defaults).
_QUIET_DTYPES = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_))


# --- grad mode ------------------------------------------------------------------------

_STATE = threading.local()


def is_grad_enabled() -> bool:
    """Whether operations on tensors are being recorded in this thread."""
    return getattr(_STATE, "enabled", True)


class _GradMode:
    """A context manager (and decorator) that sets grad mode for its block; nestable."""

    _enabled = True
    _previous: list[bool]

    def __new__(cls, function: Callable[..., Any] | None = None) -> Any:
        # ``@no_grad()`` and the bare ``@no_grad`` both decorate, as in PyTorch.
        mode = super().__new__(cls)
        mode._previous = []
        return mode if function is None else mode(function)

    def __enter__(self) -> None:
        self._previous.append(is_grad_enabled())
        _STATE.enabled = self._enabled

    def __exit__(self, *exc_info: object) -> None:
        _STATE.enabled = self._previous.pop()

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        mode = type(self)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return function(*args, **kwargs)

        wrapper.__name__ = getattr(function, "__name__", "wrapper")
        wrapper.__doc__ = getattr(function, "__doc__", None)
        wrapper.__wrapped__ = function  # type: ignore[attr-defined]
        return wrapper


class no_grad(_GradMode):  # noqa: N801  (named like torch.no_grad)
    """Record nothing inside the block: results have no ``grad_fn`` (torch.no_grad)."""

    _enabled = False


class enable_grad(_GradMode):  # noqa: N801
    """Record operations inside the block, even within :class:`no_grad`."""

    _enabled = True


# --- graph nodes ----------------------------------------------------------------------


class Node:
    """A function of the backward graph, like the objects in PyTorch's ``grad_fn``."""

    __slots__ = ("__weakref__",)
    next_functions: tuple[tuple[Node | None, int], ...] = ()

    def name(self) -> str:
        """The node's name: ``MulBackward0``, ``AccumulateGrad``..."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class AccumulateGrad(Node):
    """The sink of a leaf tensor that requires grad: adds cotangents to ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable


class BackwardNode(Node):
    """One recorded call: the rule, the values its VJPs read, and the edges to inputs.

    ``next_functions`` holds one ``(node, 0)`` pair per differentiable-position argument
    of the rule, ``(None, 0)`` where no gradient flows (a constant, an index, a tensor
    that does not require grad).  Concrete nodes are subclasses named after
    ``rule.backward_name`` so that ``type(y.grad_fn).__name__`` reads as in PyTorch.
    """

    __slots__ = ("rule", "next_functions", "_args", "_params", "_ans", "_inputs",
                 "_versions", "_freed", "_released", "outputs")

    def __init__(self, rule: Rule, args: tuple, params: dict, ans: Any,
                 inputs: list, next_functions: tuple, versions: list,
                 outputs: int | None = None) -> None:
        self.rule = rule
        self._args = args                    # every positional argument, raw NumPy values
        self._params = params                # keyword arguments of the call
        self._ans = ans                      # the result, as NumPy returned it
        self._inputs = inputs                # (position, (node, output), shape, dtype)
        self.next_functions = next_functions
        self._versions = versions            # (version cell, version when saved)
        self._freed = False
        self._released = False
        self.outputs = outputs               # the number of results, None for one array

    def _check_usable(self) -> None:
        """Raise if the values this node's VJPs read are gone or were modified."""
        if self.rule.linear:
            return
        if self._freed:
            raise TapeError(_FREED_MESSAGE)
        for cell, version in self._versions:
            if cell[0] != version:
                raise TapeError(
                    "one of the variables needed for gradient computation has been "
                    f"modified by an inplace operation: the input of {self.name()} is at "
                    f"version {cell[0]}; expected version {version} instead.")

    def _apply(self, gradient: Any) -> list[tuple[tuple[Node, int], np.ndarray]]:
        """Each input's cotangent contribution, through the rule's VJP functions.

        For several results, ``gradient`` holds one cotangent per result (None: zero),
        passed to the VJPs as a tuple, or a list for a list of results (``np.split``).
        """
        rule = self.rule
        args, params, ans = self._args, self._params, self._ans
        if self.outputs is not None:
            gradient = list(gradient) if isinstance(ans, list) else tuple(gradient)
        contributions = []
        for position, edge, shape, dtype in self._inputs:
            try:
                contribution = rule.vjps[position](gradient, ans, *args, **params)
            except RuleDomainError as error:          # complex eigenvalues, rank deficiency
                raise missing_rule_from(error) from error
            if rule.broadcasting:
                contribution = unbroadcast(contribution, args[position])
            contributions.append((edge, _conform(contribution, shape, dtype)))
        return contributions

    def _release(self) -> None:
        """Free the saved values; a linear rule keeps zero-cost stand-ins of their shapes."""
        if self._released:
            return
        self._released = True
        if not self.rule.linear:
            self._args = self._ans = None
            self._versions = []
            self._freed = True
            return
        args = list(self._args)
        for position, vjp in enumerate(self.rule.vjps):
            if vjp is not None and isinstance(args[position], np.ndarray):
                args[position] = _stand_in(args[position])
        self._args = tuple(args)
        self._ans = _stand_in(self._ans)


def _stand_in(value: Any) -> Any:
    """An array with the shape and dtype of ``value`` and no memory of its own (for each
    result of a function of several results)."""
    if isinstance(value, np.ndarray):
        return np.broadcast_to(np.zeros((), dtype=value.dtype), value.shape)
    if isinstance(value, (tuple, list)):
        return _rebuilt(value, [_stand_in(item) for item in value])
    return value


def _rebuilt(like: Any, items: list) -> Any:
    """``items`` in the container type of ``like``: a named tuple, a tuple or a list."""
    if isinstance(like, tuple) and hasattr(like, "_fields"):
        return type(like)(*items)
    return type(like)(items) if isinstance(like, (tuple, list)) else items


_NODE_CLASSES: dict[str, type[BackwardNode]] = {}


def _node_class(rule: Rule) -> type[BackwardNode]:
    name = rule.backward_name
    cls = _NODE_CLASSES.get(name)
    if cls is None:
        cls = type(name, (BackwardNode,), {
            "__slots__": (), "__module__": __name__,
            "__doc__": f"Backward node of the {rule.name!r} rule."})
        _NODE_CLASSES[name] = cls
    return cls


def _conform(value: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``value`` as an array of the given shape and dtype (the input's): a real input's
    cotangent is the real part of a complex one (registry.py)."""
    value = np.asarray(value)
    if value.dtype != dtype:
        if value.dtype.kind == "c" and dtype.kind != "c":
            value = value.real
        value = value.astype(dtype)
    if value.shape != shape:
        value = np.broadcast_to(value, shape)
    return value


# --- the tensor -----------------------------------------------------------------------


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (like ``torch.tensor``).

    Dtypes follow PyTorch's defaults where NumPy's differ: Python floats (and lists of
    them) become ``float32`` unless ``dtype`` says otherwise; Python ints stay
    ``int64``, so ``tensor([1, 2], requires_grad=True)`` raises as in PyTorch.  NumPy
    arrays and tensors keep their dtype (``float64`` stays ``float64``).
    """
    if is_dispatched_array(data):
        _refuse_dispatched(data, "s2s.tensor")
    if isinstance(data, Tensor):
        array = np.array(data.data, dtype=dtype, copy=True)
    elif isinstance(data, (np.ndarray, np.generic)):
        array = np.array(data, dtype=dtype, copy=True)
    else:
        try:
            array = np.array(data, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise InputError(f"s2s.tensor cannot hold {type(data).__name__} data: "
                             f"{error}") from None
        if dtype is None and array.dtype == np.float64 and _is_python_data(data):
            array = array.astype(np.float32)
    if array.dtype.kind not in "biufc":
        raise InputError(f"s2s.tensor holds numbers, not {array.dtype} data ({data!r})")
    return Tensor(array, requires_grad=requires_grad)


def _refused_by_numpy(operation: str, error: Exception) -> ArrayOperationError:
    return ArrayOperationError(f"{operation} on tensors: NumPy refused it: "
                               f"{type(error).__name__}: {error}")


def _is_python_data(data: Any) -> bool:
    """Python numbers, possibly nested in lists and tuples (no NumPy or tensor inside)."""
    if isinstance(data, (list, tuple)):
        return all(_is_python_data(item) for item in data)
    return isinstance(data, (bool, int, float)) and not isinstance(data, np.generic)


class Tensor:
    """A NumPy array with PyTorch's autograd attributes.

    ``Tensor(array)`` wraps ``array`` without copying and keeps its dtype; use
    :func:`tensor` to build one from Python data.  Attributes: ``data`` (the NumPy
    array), ``grad`` (a :class:`Tensor` or ``None``), ``grad_fn`` (the node that made
    it, ``None`` for leaves), ``requires_grad``, ``is_leaf``.
    """

    records_operations = True      # not an array of another library (runtime.is_dispatched_array)

    __array_priority__ = 1000.0
    __slots__ = ("data", "_grad", "grad_fn", "_requires_grad", "_accumulator",
                 "_version_cell", "_output", "__weakref__")

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        self.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        self._grad: Tensor | None = None
        self.grad_fn: BackwardNode | None = None
        self._requires_grad = False
        self._accumulator: AccumulateGrad | None = None
        self._version_cell = [0]                # shared with detached views of the data
        self._output = 0                        # which result of grad_fn this tensor is
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _result(cls, data: np.ndarray, grad_fn: BackwardNode | None = None,
                version_cell: list[int] | None = None, output: int = 0) -> Tensor:
        """A tensor made by an operation (no checks, no copy): result ``output`` of
        ``grad_fn``."""
        result = cls.__new__(cls)
        result._output = output
        result.data = data
        result._grad = None
        result.grad_fn = grad_fn
        result._requires_grad = grad_fn is not None
        result._accumulator = None
        result._version_cell = version_cell if version_cell is not None else [0]
        return result

    # --- autograd attributes ----------------------------------------------------------

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient of a leaf: ``None`` until a backward pass reaches it."""
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                value = Tensor(np.array(value, dtype=self.data.dtype))
            if value.shape != self.data.shape:
                raise TapeError(
                    f"assigned grad has data of a different size: {value.shape} for a "
                    f"tensor of shape {self.data.shape}")
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set whether this leaf records operations for a gradient; returns ``self``."""
        flag = bool(flag)
        if self.grad_fn is not None:
            if not flag:
                raise TapeError(
                    "you can only change requires_grad flags of leaf variables. If you want "
                    "to use a computed variable in a subgraph that doesn't require "
                    "differentiation use var_no_grad = var.detach().")
            return self
        if flag and self.data.dtype.kind not in "fc":
            raise TapeError(_FLOAT_MESSAGE)
        self._requires_grad = flag
        if not flag:
            self._accumulator = None
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's data has seen."""
        return self._version_cell[0]

    def _bump_version(self) -> None:
        self._version_cell[0] += 1

    def _node(self) -> Node:
        """Where cotangents for this tensor go: its ``grad_fn`` or its AccumulateGrad."""
        if self.grad_fn is not None:
            return self.grad_fn
        if self._accumulator is None:
            self._accumulator = AccumulateGrad(self)
        return self._accumulator

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Add the gradient of this tensor to the ``.grad`` of every leaf it depends on.

        ``gradient`` is the cotangent of this tensor (its shape); it may be omitted for
        a tensor with one element.  Saved values are freed unless ``retain_graph``.
        """
        seed = _seed_gradient(self, gradient)
        _run_backward([(self, seed)], retain_graph=retain_graph)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data, outside the graph (no gradient flows back)."""
        return Tensor._result(self.data, version_cell=self._version_cell)

    def zero_(self) -> Tensor:
        """Fill with zeros in place (``x.grad.zero_()``); returns ``self``."""
        if is_grad_enabled() and self._requires_grad:
            raise TapeError(_LEAF_IN_PLACE_MESSAGE if self.grad_fn is None
                               else _IN_PLACE_MESSAGE)
        if self.data.flags.writeable:
            self.data[...] = 0
        else:
            self.data = np.zeros_like(self.data)
        self._bump_version()
        return self

    # --- array attributes -------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def numel(self) -> int:
        """The number of elements (PyTorch's name for ``size``)."""
        return self.data.size

    def dim(self) -> int:
        """The number of dimensions (PyTorch's name for ``ndim``)."""
        return self.data.ndim

    @property
    def T(self) -> Tensor:  # noqa: N802  (NumPy's name)
        return np.transpose(self)

    def numpy(self) -> np.ndarray:
        """The NumPy array (shared, not copied; no gradient flows through it)."""
        return self.data

    def item(self) -> Any:
        """The single element as a Python number."""
        return self.data.item()

    def tolist(self) -> Any:
        if self._requires_grad and is_grad_enabled():
            raise _missing_attribute(".tolist()")
        return self.data.tolist()

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise InputError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        if self.data.ndim == 0:
            raise InputError("iteration over a 0-d tensor")
        return (self[index] for index in range(len(self.data)))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if self._requires_grad and is_grad_enabled():
            caller = scipy_caller(sys._getframe(1))
            if caller is not None:          # scipy.stats.norm.logpdf(t): np.asarray inside
                raise _scipy_conversion(caller)
            raise MissingRuleError(
                "converting a tensor that requires grad to a NumPy array (np.asarray, "
                "np.array, or a function NumPy does not dispatch) would drop its gradient",
                hint="use NumPy functions on the value directly, or s2s.stop_gradient(...) "
                     "if no gradient should flow")
        if dtype is None and not copy:
            return self.data
        return np.array(self.data, dtype=dtype, copy=True if copy else None)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        if self._requires_grad and is_grad_enabled():
            raise MissingRuleError(
                "exporting a tensor that requires grad through DLPack (np.from_dlpack) would "
                "drop its gradient", hint="use s2s.stop_gradient(...) if no gradient should flow")
        return self.data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> Any:
        return self.data.__dlpack_device__()

    def __float__(self) -> float:
        if self._requires_grad and is_grad_enabled():
            raise MissingRuleError(
                "float() of a tensor that requires grad would drop its gradient "
                "(math-module functions call float())",
                hint="use the NumPy function (np.sin instead of math.sin), or "
                     "s2s.stop_gradient(...) if no gradient should flow")
        return float(self.data.item())

    def __int__(self) -> int:
        return int(self.data.item())

    def __index__(self) -> int:
        return operator.index(self.data)

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        prefix = "tensor("
        body = np.array2string(self.data, separator=", ", prefix=prefix)
        extras = []
        if self.data.dtype not in _QUIET_DTYPES:
            extras.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return prefix + body + "".join(", " + extra for extra in extras) + ")"

    def __format__(self, format_spec: str) -> str:
        if format_spec and self.data.ndim == 0:
            return format(self.data.item(), format_spec)
        return format(repr(self), format_spec)

    # --- methods that are NumPy functions (each dispatches to a rule) -------------------

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """``np.sum(self, axis, keepdims=...)`` (NumPy's arguments, not ``dim``)."""
        return REGISTRY.methods["sum"].primal(self, **_given(axis=axis, keepdims=keepdims))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """``np.mean(self, axis, keepdims=...)``."""
        return REGISTRY.methods["mean"].primal(self, **_given(axis=axis, keepdims=keepdims))

    def reshape(self, *shape: Any, order: str = "C") -> Tensor:
        """``np.reshape``; takes ``t.reshape(2, 3)`` or ``t.reshape((2, 3))``, and ``order``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if order != "C":
            return REGISTRY.methods["reshape"].primal(self, shape, order=order)
        return REGISTRY.methods["reshape"].primal(self, shape)

    def transpose(self, *axes: Any) -> Tensor:
        """``np.transpose``; takes ``t.transpose(1, 0)`` or ``t.transpose((1, 0))``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if not axes:
            return REGISTRY.methods["transpose"].primal(self)
        return REGISTRY.methods["transpose"].primal(self, axes)

    def dot(self, other: Any) -> Tensor:
        return REGISTRY.methods["dot"].primal(self, other)

    def matmul(self, other: Any) -> Tensor:
        return np.matmul(self, other)

    def norm(self) -> Tensor:
        """The 2-norm of a vector or the Frobenius norm (``np.linalg.norm``)."""
        return np.linalg.norm(self)

    def exp(self) -> Tensor:
        return np.exp(self)

    def log(self) -> Tensor:
        return np.log(self)

    def sin(self) -> Tensor:
        return np.sin(self)

    def cos(self) -> Tensor:
        return np.cos(self)

    def tanh(self) -> Tensor:
        return np.tanh(self)

    def sqrt(self) -> Tensor:
        return np.sqrt(self)

    def abs(self) -> Tensor:
        return np.absolute(self)

    def pow(self, exponent: Any) -> Tensor:
        return np.power(self, exponent)

    def clone(self) -> Tensor:
        """A copy that stays in the graph (``np.positive``)."""
        return np.positive(self)

    def __getattr__(self, name: str) -> Any:
        # Every public ndarray attribute resolves through the registry: an attribute read
        # (``x.real``) or a method (``x.max()``) with a rule records it, a declared-zero
        # one gives the plain value, and one without either raises MissingRuleError when
        # a floating value of a tensor being recorded would come out of it.
        if name.startswith("_") or not hasattr(np.ndarray, name):
            raise AttributeError(f"'Tensor' object has no attribute {name!r}")
        rule = REGISTRY.attributes.get(name)
        if rule is not None:
            if rule.nondifferentiable:
                return getattr(self.data, name)
            return rule.primal(self)
        rule = REGISTRY.methods.get(name)
        if rule is not None:
            primal = rule.primal
            return lambda *args, **kwargs: primal(self, *args, **kwargs)
        if callable(getattr(np.ndarray, name)):
            return _unruled_method(self, name)
        value = getattr(self.data, name)
        if self._requires_grad and is_grad_enabled() and _holds_values(value):
            raise _missing_attribute(f".{name}")
        return _wrap_plain(value)

    # --- indexing ---------------------------------------------------------------------

    def __getitem__(self, index: Any) -> Any:
        index = _unwrap_index(index)
        try:
            raw = self.data[index]
        except (IndexError, TypeError, ValueError) as error:
            raise _refused_by_numpy("indexing", error) from error
        if not (self._requires_grad and is_grad_enabled()):
            return _wrap_plain(raw)
        rule = REGISTRY.lookup(operator.getitem)
        if rule is None:
            raise _missing_rule("operator.getitem")
        return _record(rule, (self, index), (self.data, index), {}, raw)

    def __setitem__(self, index: Any, value: Any) -> None:
        value_requires = isinstance(value, Tensor) and value._requires_grad
        if is_grad_enabled() and (self._requires_grad or value_requires):
            raise TapeError(_IN_PLACE_MESSAGE)
        self.data[_unwrap_index(index)] = value.data if isinstance(value, Tensor) else value
        self._bump_version()

    # --- operators --------------------------------------------------------------------
    # ``a % b`` calls np.remainder and so on: the methods are made from the one table of
    # operators (s2s.rules.operators.DUNDERS) below the class.  Only == and != differ:
    # a tensor compared with None is never equal to it.

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return False if other is None else np.equal(self, other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return True if other is None else np.not_equal(self, other)

    # ``y += x`` on a tensor being recorded rebinds ``y`` to a new tensor, exactly like
    # ``y = y + x`` (names aliasing the old tensor keep the old value); outside recording
    # (``with s2s.no_grad():``, e.g. an optimizer step) it updates the data in place.

    def _in_place(self, ufunc: np.ufunc, other: Any) -> Any:
        if is_grad_enabled() and (self._requires_grad or getattr(other, "_requires_grad", False)):
            if self._requires_grad and self.is_leaf:     # as in PyTorch: the leaf would be lost
                raise TapeError(_LEAF_IN_PLACE_MESSAGE + " Run the update under "
                                   "`with s2s.no_grad():`, as an optimizer step does.")
            return ufunc(self, other)
        return ufunc(self, other, out=self)

    def __iadd__(self, other: Any) -> Any:
        return self._in_place(np.add, other)

    def __isub__(self, other: Any) -> Any:
        return self._in_place(np.subtract, other)

    def __imul__(self, other: Any) -> Any:
        return self._in_place(np.multiply, other)

    def __itruediv__(self, other: Any) -> Any:
        return self._in_place(np.true_divide, other)

    # --- NumPy protocols --------------------------------------------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        found = [value for value in inputs if isinstance(value, Tensor)]
        raw_inputs = tuple(value.data if isinstance(value, Tensor) else value
                           for value in inputs)
        recording = is_grad_enabled() and any(value._requires_grad for value in found)
        if "out" in kwargs and kwargs["out"] is None:
            del kwargs["out"]
        if "out" in kwargs or method == "at":
            return _in_place_ufunc(ufunc, method, inputs, raw_inputs, kwargs, recording)
        try:
            raw = getattr(ufunc, method)(*raw_inputs, **kwargs)
        except (IndexError, TypeError, ValueError) as error:
            raise _refused_by_numpy(_ufunc_name(ufunc), error) from error
        if not recording:
            return _wrap_plain(raw)
        if method != "__call__":
            return _differentiate_unruled(f"{_ufunc_name(ufunc)}.{method}", raw)
        rule = REGISTRY.lookup(ufunc)
        if rule is None or rule.nondifferentiable:
            return _differentiate_unruled(_ufunc_name(ufunc), raw, rule, found)
        return _record(rule, inputs, raw_inputs, kwargs, raw)

    def __array_function__(self, func: Callable[..., Any], types: Any, args: tuple,
                           kwargs: dict) -> Any:
        if not all(issubclass(kind, (Tensor, np.ndarray)) for kind in types):
            return NotImplemented
        found: list[Tensor] = []
        raw_args = tuple(_unwrap(value, found) for value in args)
        raw_kwargs = {name: _unwrap(value, found) for name, value in kwargs.items()}
        recording = is_grad_enabled() and any(value._requires_grad for value in found)
        try:
            raw = func(*raw_args, **raw_kwargs)
        except (IndexError, TypeError, ValueError) as error:
            raise _refused_by_numpy(_function_name(func), error) from error
        if not recording:
            return _wrap_plain(raw)
        rule = REGISTRY.lookup(func)
        if rule is None or rule.nondifferentiable:
            return _differentiate_unruled(_function_name(func), raw, rule, found)
        # Gradients flow only into tensors given directly at the rule's positions.
        elsewhere = [value for position, value in enumerate(args)
                     if position >= rule.arity or not isinstance(value, Tensor)]
        if any(isinstance(value, Tensor) and value._requires_grad
               for value in _flatten((elsewhere, kwargs))):
            raise UnsupportedError(
                f"the tape differentiates {_function_name(func)} only with respect to "
                f"tensors passed directly as its first {rule.arity} positional argument(s)",
                hint="pass each differentiated array positionally, not by keyword or "
                     "inside a list")
        return _record(rule, args, raw_args, raw_kwargs, raw)


def _operator_method(function: Callable[..., Any], reflected: bool = False):
    if getattr(function, "nin", 2) == 1:
        return lambda self: function(self)
    if reflected:
        return lambda self, other: function(other, self)
    return lambda self, other: function(self, other)


_REFLECTED_BY_PYTHON = {"lt", "le", "gt", "ge", "eq", "ne"}   # a < b is b > a
for _stem, _function in DUNDERS.items():
    if _stem in ("eq", "ne"):
        continue
    setattr(Tensor, f"__{_stem}__", _operator_method(_function))
    if getattr(_function, "nin", 2) == 2 and _stem not in _REFLECTED_BY_PYTHON:
        setattr(Tensor, f"__r{_stem}__", _operator_method(_function, reflected=True))


def _given(**arguments: Any) -> dict[str, Any]:
    """The keyword arguments that differ from NumPy's defaults (None / False)."""
    return {name: value for name, value in arguments.items()
            if value is not None and value is not False}


# --- dispatch helpers -----------------------------------------------------------------


def _unwrap(value: Any, found: list[Tensor]) -> Any:
    """``value`` with tensors replaced by their arrays (inside lists and tuples too)."""
    if isinstance(value, Tensor):
        found.append(value)
        return value.data
    if type(value) in (list, tuple):
        return type(value)(_unwrap(item, found) for item in value)
    return value


def _flatten(value: Any) -> Iterator[Any]:
    # Named tuples too (QRResult, EighResult...): their fields are results like any other.
    if isinstance(value, dict):
        value = tuple(value.values())
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _flatten(item)
    else:
        yield value


def _unwrap_index(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(item.data if isinstance(item, Tensor) else item for item in index)
    if isinstance(index, list):
        return [item.data if isinstance(item, Tensor) else item for item in index]
    return index


def _wrap_plain(raw: Any) -> Any:
    """An untracked result: arrays become tensors, except booleans (plain masks)."""
    if isinstance(raw, np.ndarray):
        return raw if raw.dtype == np.bool_ else Tensor._result(raw)
    if isinstance(raw, np.generic):
        return raw if isinstance(raw, np.bool_) else Tensor._result(np.asarray(raw))
    if isinstance(raw, tuple):
        items = [_wrap_plain(item) for item in raw]
        return type(raw)(*items) if hasattr(raw, "_fields") else tuple(items)
    if isinstance(raw, list):
        return [_wrap_plain(item) for item in raw]
    return raw


def _is_floating(raw: Any) -> bool:
    return isinstance(raw, (np.ndarray, np.generic)) and raw.dtype.kind in "fc"


def _holds_values(raw: Any) -> bool:
    """Whether ``raw`` carries an array's floating values (not only its shape or dtype)."""
    if isinstance(raw, (np.flatiter, memoryview, bytes)) or type(raw).__name__ == "_ctypes":
        return True
    return any(_is_floating(item) or isinstance(item, (float, complex))
               for item in _flatten(raw))


# ndarray methods that change the array in place (refused while recording, as ``+=``).
_IN_PLACE_METHODS = frozenset({"fill", "put", "sort", "partition", "resize", "setfield",
                               "setflags", "byteswap", "itemset"})


def _unruled_method(value: Tensor, name: str) -> Callable[..., Any]:
    """``value.name`` for an ndarray method without a rule (``x.astype``, ``x.sort``)."""

    def method(*args: Any, **kwargs: Any) -> Any:
        found: list[Tensor] = []
        raw_args = tuple(_unwrap(item, found) for item in args)
        raw_kwargs = {key: _unwrap(item, found) for key, item in kwargs.items()}
        recording = is_grad_enabled() and (value._requires_grad
                                           or any(item._requires_grad for item in found))
        if name in _IN_PLACE_METHODS:
            if recording:
                raise TapeError(_IN_PLACE_MESSAGE)
            result = getattr(value.data, name)(*raw_args, **raw_kwargs)
            value._bump_version()
            return _wrap_plain(result)
        result = getattr(value.data, name)(*raw_args, **raw_kwargs)
        if recording and _holds_values(result):
            raise _missing_attribute(f".{name}()")
        return _wrap_plain(result)

    method.__name__ = name
    return method


def _function_name(func: Any) -> str:
    if isinstance(func, np.ufunc):
        return _ufunc_name(func)
    module = getattr(func, "__module__", None)
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
    return f"{module}.{name}" if module else name


def _ufunc_name(ufunc: np.ufunc) -> str:
    """``numpy.exp``, ``scipy.special.expit``: ufuncs have no ``__module__``, so the name
    is that of the public module that holds this very object."""
    for module in ("numpy", "scipy.special"):
        namespace = sys.modules.get(module)
        if namespace is not None and getattr(namespace, ufunc.__name__, None) is ufunc:
            return f"{module}.{ufunc.__name__}"
    return ufunc.__name__


def _missing_rule(name: str) -> MissingRuleError:
    short = name.replace("numpy.", "np.", 1) if name.startswith("numpy.") else name
    return MissingRuleError(
        f"no derivative rule for {name}, called on a tensor that requires grad",
        hint=f"register one in the rule registry, e.g. s2s.rules.define({short}, "
             "vjp=..., jvp=...) as in s2s/rules/elementwise.py; or keep this value out of "
             "the graph with .detach(), s2s.stop_gradient(...) or `with s2s.no_grad():`")


def _scipy_conversion(name: str) -> MissingRuleError:
    """A tensor being recorded reached a SciPy function written in Python, which converts it
    with ``np.asarray``: NumPy gives the tape no way to record that call."""
    from .rules import REGISTRY as registry
    has_rule = any(rule.name == name.replace("(...)", "") for rule in registry)
    what = ("its derivative rule is used by generated code" if has_rule
            else "it has no derivative rule")
    return MissingRuleError(
        f"{name} converts its arguments to NumPy arrays, so the tape cannot record it "
        f"({what})", hint="differentiate the function ahead of time (s2s.grad, "
        "@s2s.differentiate(fallback='error')) instead of on the tape, or keep this value out "
        "of the graph with .detach() or s2s.stop_gradient(...)")


def _missing_attribute(name: str) -> MissingRuleError:
    return MissingRuleError(
        f"no derivative rule for the ndarray attribute {name}, read on a tensor that "
        "requires grad",
        hint="use the NumPy function with a rule instead (np.transpose(x), np.real(x)...), "
             "or register one in the rule registry (define(..., attributes=(...)) or "
             "methods=(...)); or keep this value out of the graph with .detach() or "
             "s2s.stop_gradient(...)")


def _differentiate_unruled(name: str, raw: Any, rule: Rule | None = None,
                           found: Sequence[Tensor] = ()) -> Any:
    """A call with tracked inputs and no VJP: fine only for a declared zero derivative
    (and, for one that holds for real values only, ``np.sign``, on real inputs).

    A function without a rule raises even when nothing floating comes out of it: it may
    have written the tensor's values somewhere else (``np.copyto(out, x)``, ``np.put``).
    """
    if rule is not None and rule.nondifferentiable:
        if rule.refuses_complex and any(value._requires_grad and value.data.dtype.kind == "c"
                                        for value in found):
            raise _complex_refused(name)
        return _wrap_plain(raw)
    raise _missing_rule(name)


def _complex_refused(name: str) -> MissingRuleError:
    return MissingRuleError(
        f"{name} received a complex tensor being recorded, and its derivative rule is for "
        "real values only",
        hint="compute it from real values (np.real, np.imag, np.abs of the complex ones), "
             "or register a rule for complex values")


def _in_place_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, raw_inputs: tuple,
                    kwargs: dict, recording: bool) -> Any:
    """``out=`` and ``ufunc.at``: allowed when nothing records, like PyTorch's no_grad."""
    outs = kwargs.get("out") or ()
    if not isinstance(outs, tuple):
        outs = (outs,)
    targets = [value for value in outs if isinstance(value, Tensor)]
    if method == "at" and isinstance(inputs[0], Tensor):
        targets.append(inputs[0])
    if is_grad_enabled() and (recording or any(value._requires_grad for value in targets)):
        raise TapeError(_IN_PLACE_MESSAGE)
    if outs:
        kwargs = {**kwargs, "out": tuple(value.data if isinstance(value, Tensor) else value
                                         for value in outs)}
    raw = getattr(ufunc, method)(*raw_inputs, **kwargs)
    for target in targets:
        target._bump_version()
    if method == "at":
        return None
    if not outs:
        return _wrap_plain(raw)
    return outs[0] if len(outs) == 1 else outs


_SIGNATURES: dict[int, Any] = {}


def _check_parameters(rule: Rule, raw_args: tuple, params: dict) -> None:
    """Fail early, naming the argument, when the rule's VJPs cannot take this call."""
    signature = _SIGNATURES.get(id(rule))
    if signature is None:
        signature = _SIGNATURES[id(rule)] = rule.signature
    try:
        signature.bind(*raw_args, **params)
    except TypeError as error:
        raise UnsupportedError(
            f"the derivative rule for {_function_name(rule.primal)} cannot take this call: "
            f"{error}",
            hint="call it with the arguments the rule declares, or extend the rule") from None


_VARIADIC: dict[int, bool] = {}


def _is_variadic(rule: Rule) -> bool:
    """Whether the rule takes its differentiable arguments as ``*operands`` (einsum)."""
    variadic = _VARIADIC.get(id(rule))
    if variadic is None:
        variadic = _VARIADIC[id(rule)] = any(
            parameter.kind is parameter.VAR_POSITIONAL
            for parameter in rule.signature.parameters.values())
    return variadic


_REQUIRED: dict[int, int] = {}


def _required_positions(rule: Rule) -> int:
    """How many of the rule's positions have no default (the others may be left out)."""
    required = _REQUIRED.get(id(rule))
    if required is None:
        parameters = list(rule.signature.parameters.values())[:rule.arity]
        required = _REQUIRED[id(rule)] = sum(
            parameter.default is inspect.Parameter.empty for parameter in parameters)
    return required


_NO_EDGE = (None, 0)
_NO_PARAMS: dict[str, Any] = {}     # shared, never modified


def _record(rule: Rule, args: Sequence[Any], raw_args: tuple, params: dict,
            raw: Any) -> Tensor:
    """Wrap ``raw`` in a tensor whose ``grad_fn`` is a new node of ``rule``."""
    arity = rule.arity
    if _is_variadic(rule) or len(raw_args) >= _required_positions(rule):
        arity = min(arity, len(raw_args))   # np.einsum(*operands), np.select(c, x) (default=0)
    if len(raw_args) < arity:
        raise UnsupportedError(
            f"the tape needs the {arity} differentiable argument(s) of "
            f"{_function_name(rule.primal)} passed positionally")
    if params or len(raw_args) != arity:
        _check_parameters(rule, raw_args, params)
    several = isinstance(raw, (tuple, list))
    results = list(raw) if several else [raw]
    if not all(isinstance(item, (np.ndarray, np.generic)) for item in results):
        shown = next(item for item in results if not isinstance(item, (np.ndarray, np.generic)))
        raise UnsupportedError(
            f"{_function_name(rule.primal)} returned {type(shown).__name__}, not an array: "
            "the tape records arrays, and tuples and lists of arrays")
    datas = [item if isinstance(item, np.ndarray) else np.asarray(item) for item in results]
    floating = [data.dtype.kind in "fc" for data in datas]
    if not any(floating):
        return _rebuilt(raw, [Tensor._result(data) for data in datas]) if several \
            else Tensor._result(datas[0])
    if rule.refuses_complex and any(holds_complex(value) for value in raw_args[:arity]):
        # its inputs: a complex result of real ones (np.linalg.eig) is the rule's own case
        raise _complex_refused(_function_name(rule.primal))
    inputs = []
    next_functions = []
    versions = []
    saves_values = not rule.linear
    for position in range(arity):
        value = args[position]
        if isinstance(value, Tensor):
            if saves_values:
                versions.append((value._version_cell, value._version_cell[0]))
            if value._requires_grad and rule.vjps[position] is None \
                    and isinstance(rule.domains[position], NotDifferentiated):
                raise MissingRuleError(
                    f"the tape does not differentiate argument {position + 1} of "
                    f"{_function_name(rule.primal)}, and it requires grad",
                    hint="pass a value that does not require grad there (.detach())")
            if value._requires_grad and rule.vjps[position] is not None:
                edge = (value._node(), value._output)
                inputs.append((position, edge, value.data.shape, value.data.dtype))
                next_functions.append(edge)
                continue
        next_functions.append(_NO_EDGE)
    cells = [[0] for _ in datas]
    if saves_values:
        versions.extend((cell, 0) for cell in cells)
    ans = _rebuilt(raw, datas) if several else datas[0]
    node = _node_class(rule)(rule, raw_args, params or _NO_PARAMS, ans, inputs,
                             tuple(next_functions), versions, len(datas) if several else None)
    if not several:
        return Tensor._result(datas[0], node, cells[0])
    # Integer results (lstsq's rank) are not differentiated: plain tensors.
    return _rebuilt(raw, [Tensor._result(data, node, cell, output) if is_float
                          else Tensor._result(data)
                          for output, (data, cell, is_float)
                          in enumerate(zip(datas, cells, floating))])


# --- the backward pass ----------------------------------------------------------------


def _seed_gradient(output: Tensor, gradient: Any) -> np.ndarray:
    """The cotangent ``backward`` starts from, checked like PyTorch does."""
    if not output._requires_grad:
        raise TapeError(_NO_GRAD_MESSAGE)
    if gradient is None:
        if output.data.size != 1:
            raise TapeError(_SCALAR_MESSAGE)
        if output.data.dtype.kind == "c":
            raise TapeError("grad can be implicitly created only for real scalar outputs")
        return np.ones_like(output.data)
    seed = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient)
    if seed.shape != output.data.shape:
        raise TapeError(
            f"Mismatch in shape: grad_output[0] has a shape of {seed.shape} and "
            f"output[0] has a shape of {output.data.shape}.")
    return _internal_seed(seed, output, TapeError)


def _internal_seed(seed: np.ndarray, output: Tensor, error: type) -> np.ndarray:
    """A cotangent given for ``output`` as it travels the graph: the conjugate of a complex
    one (the registry's convention, registry.py); complex for a real output is refused."""
    if seed.dtype.kind == "c":
        if output.data.dtype.kind != "c":
            raise error(f"the gradient given for a real output is complex ({seed.dtype})")
        seed = np.conj(seed)
    return seed.astype(output.data.dtype, copy=False)


def _count_consumers(starts: Sequence[Node]) -> dict[Node, int]:
    """How many edges of the graph reachable from ``starts`` enter each node.

    Iterative (no recursion), so chains of any length work; raises before any gradient
    moves if a node on the way can no longer run.
    """
    consumers: dict[Node, int] = {}
    seen = set(starts)
    stack = list(starts)
    while stack:
        node = stack.pop()
        if not isinstance(node, BackwardNode):
            continue
        node._check_usable()
        for next_node, _ in node.next_functions:
            if next_node is None:
                continue
            consumers[next_node] = consumers.get(next_node, 0) + 1     # one per edge
            if next_node not in seen:
                seen.add(next_node)
                stack.append(next_node)
    return consumers


def _run_backward(roots: Sequence[tuple[Tensor, np.ndarray]], retain_graph: bool,
                  capture: dict[AccumulateGrad, np.ndarray] | None = None) -> None:
    """Propagate cotangents from ``roots`` to the leaves, in topological order.

    Each node runs once, after every node that feeds it a cotangent (Kahn's algorithm
    over the consumer counts).  Leaves receive their gradient in ``.grad``, or in
    ``capture`` (keyed by AccumulateGrad node) when given.
    """
    pending: dict[Node, Any] = {}
    for output, seed in roots:
        _add_pending(pending, (output._node(), output._output), seed)
    starts = list(pending)
    consumers = _count_consumers(starts)
    ready = [node for node in starts if consumers.get(node, 0) == 0]
    while ready:
        node = ready.pop()
        gradient = pending.pop(node)
        if isinstance(node, AccumulateGrad):
            _deliver(node, gradient, capture)
            continue
        contributions = node._apply(gradient)
        if not retain_graph:
            node._release()
        for (next_node, output), contribution in contributions:
            _add_pending(pending, (next_node, output), contribution)
            consumers[next_node] -= 1
            if consumers[next_node] == 0:
                ready.append(next_node)


def _add_pending(pending: dict[Node, Any], edge: tuple[Node, int], gradient: Any) -> None:
    """Add a cotangent for result ``edge[1]`` of node ``edge[0]``: an array for a node of
    one result, a list with one entry per result (None until one arrives) otherwise."""
    node, output = edge
    outputs = getattr(node, "outputs", None)
    if outputs is None:
        previous = pending.get(node)
        pending[node] = gradient if previous is None else previous + gradient
        return
    entries = pending.get(node)
    if entries is None:
        entries = pending[node] = [None] * outputs
    entries[output] = gradient if entries[output] is None else entries[output] + gradient


def _deliver(node: AccumulateGrad, gradient: np.ndarray,
             capture: dict[AccumulateGrad, np.ndarray] | None) -> None:
    """Accumulate a leaf's gradient, in its dtype, into ``.grad`` (or ``capture``)."""
    leaf = node.variable
    gradient = _conform(gradient, leaf.data.shape, leaf.data.dtype)
    if gradient.dtype.kind == "c":     # carried as the conjugate of the gradient
        gradient = np.conj(gradient)
    if capture is not None:
        previous = capture.get(node)
        capture[node] = gradient if previous is None else previous + gradient
        return
    grad = leaf._grad
    if grad is None:
        leaf._grad = Tensor._result(np.array(gradient, copy=True))   # never alias a seed
    elif grad.data.flags.writeable:
        np.add(grad.data, gradient, out=grad.data, casting="unsafe")  # in place, as torch
        grad._bump_version()
    else:
        leaf._grad = Tensor._result((grad.data + gradient).astype(leaf.data.dtype))


# --- helpers for other parts of s2s ---------------------------------------------------


def detach_if_tensor(value: Any) -> Any:
    """``value.detach()`` for a tensor, ``value`` itself otherwise (stop_gradient)."""
    return value.detach() if isinstance(value, Tensor) else value


def vjp_with_tape(fn: Callable[..., Any], args: tuple, kwargs: dict,
                  wrt: tuple[int, ...]) -> tuple[Any, Callable[..., tuple]]:
    """Run ``fn(*args, **kwargs)`` on the tape; return its value and a pullback.

    The positional arguments named in ``wrt`` are wrapped as tensors that require grad
    (Python numbers and integer arrays as ``float64``; lists and tuples element by
    element; a pytree of parameters, :mod:`s2s.pytree`, leaf by leaf, its non-float
    leaves unchanged); everything else is passed unchanged.  The value comes back as plain NumPy
    (a NumPy scalar for a 0-d result; a tuple for a tuple of outputs).

    ``pullback(cotangent)`` returns one gradient per ``wrt`` index, in the argument's
    form: a Python float for a Python number, an array of the argument's float dtype
    for an array, a list or tuple of those for a list or tuple, a tree of the same
    structure for a pytree (None at its non-float leaves).  ``cotangent`` has the
    output's shape (a matching tuple for tuple outputs) and may be omitted for a
    one-element output.  The graph is retained, so the pullback may be called again.

    While ``fn`` runs, ``float(t)`` and ``np.asarray(t)`` of a tensor that requires grad
    raise :class:`~s2s.errors.MissingRuleError` instead of silently dropping the
    gradient (``math.sin(t)`` calls ``float``), as does any NumPy call without a rule.
    """
    for value in (*args, *kwargs.values()):
        _refuse_dispatched(value, getattr(fn, "__qualname__", "the function"))
    arguments = list(args)
    wrapped: dict[int, Any] = {}
    for index in wrt:
        if not -len(arguments) <= index < len(arguments):
            raise InputError(f"wrt index {index} is out of range for {len(arguments)} "
                             "positional argument(s)")
        index %= len(arguments)
        if index not in wrapped:
            wrapped[index] = arguments[index] = _make_leaves(arguments[index])
    with enable_grad():
        try:
            output = fn(*arguments, **kwargs)
        except (TypeError, AttributeError) as error:
            if isinstance(error, S2SError) or "'Tensor'" not in str(error):
                raise
            # a function NumPy does not dispatch (np.frombuffer, a C extension) met a tensor
            raise MissingRuleError(
                f"the tape cannot follow a tensor here: {type(error).__name__}: {error}",
                hint="this operation does not dispatch to the tape, so it has no derivative "
                     "rule; use s2s.stop_gradient(...) if no gradient should flow") from error
    outputs = list(output) if isinstance(output, (tuple, list)) else [output]
    value = tuple(_plain_tree(item) for item in outputs) \
        if isinstance(output, (tuple, list)) else _plain_tree(output)

    def pullback(cotangent: Any = None) -> tuple:
        if output is None:
            raise InputError(f"{getattr(fn, '__qualname__', 'the function')} returned None, "
                             "not a number: there is nothing to differentiate (is a return "
                             "statement missing, or did a NumPy function that does not "
                             "dispatch, such as np.bmat, receive a tensor?)")
        if isinstance(output, (tuple, list)):
            cotangents = [None] * len(outputs) if cotangent is None else list(cotangent)
            if len(cotangents) != len(outputs):
                raise InputError(f"the cotangent has {len(cotangents)} parts for "
                                 f"{len(outputs)} outputs")
        else:
            cotangents = [cotangent]
        roots = []
        for item, item_cotangent in zip(outputs, cotangents):
            for leaf, leaf_cotangent in _output_leaves(item, item_cotangent):
                if isinstance(leaf, Tensor) and leaf._requires_grad:
                    roots.append((leaf, _cotangent_seed(leaf, leaf_cotangent)))
        captured: dict[AccumulateGrad, np.ndarray] = {}
        if roots:
            _run_backward(roots, retain_graph=True, capture=captured)
        return tuple(_gradient_like(args[index], wrapped[index % len(args)], captured)
                     for index in wrt)

    return value, pullback


def _refuse_dispatched(value: Any, where: str) -> None:
    """The tape records NumPy arrays only: a Dask or CuPy array (or a list of them) is
    refused, since recording it would compute it or copy it to the host."""
    items = value if isinstance(value, (list, tuple)) else (value,)
    for item in items:
        if is_dispatched_array(item):
            raise InputError(
                f"{where} runs on the runtime tape, which records NumPy arrays only, and an "
                f"argument is a {type(item).__module__.split('.')[0]} array "
                f"({type(item).__name__}). Generated code runs on such arrays: make the "
                "function transformable ahead of time (see f.fallback_reason), or pass "
                "NumPy arrays (x.compute() for Dask, x.get() for CuPy)")


def _make_leaves(value: Any) -> Any:
    from .pytree import is_pytree_argument
    if is_pytree_argument(value):
        return _make_tree_leaves(value)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_make_leaves(item) for item in value)
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, bool) or not isinstance(value, (int, float, complex, np.ndarray,
                                                         np.generic)):
        raise InputError(f"cannot differentiate with respect to a {type(value).__name__}")
    array = np.asarray(value)
    if array.dtype.kind not in "fc":
        if not np.issubdtype(array.dtype, np.integer):
            raise InputError(f"cannot differentiate with respect to {array.dtype} data")
        array = array.astype(np.float64)
    return Tensor(array, requires_grad=True)


def _make_tree_leaves(tree: Any) -> Any:
    """A pytree argument with its float leaves as tensors that require grad; its other
    leaves (ints, strings, integer arrays) pass through, as in generated code."""
    from .pytree import children, is_float_leaf, is_node, rebuild
    if is_node(tree):
        items, kind, aux = children(tree)
        return rebuild(kind, aux, [_make_tree_leaves(item) for item in items])
    if isinstance(tree, Tensor) or is_float_leaf(tree):
        return _make_leaves(tree)
    return tree


def _tree_gradient(original: Any, wrapped: Any, captured: dict) -> Any:
    """The gradient of a pytree argument: the same structure, None at non-float leaves."""
    from .pytree import children, is_node, rebuild
    if isinstance(original, dict):
        return {key: _tree_gradient(value, wrapped[key], captured)
                for key, value in original.items()}
    if is_node(original):
        items, kind, aux = children(original)
        return rebuild(kind, aux, [_tree_gradient(item, leaf, captured) for item, leaf
                                   in zip(items, children(wrapped)[0])])
    if not isinstance(wrapped, Tensor):
        return None
    return _gradient_like(original, wrapped, captured)


def _gradient_like(original: Any, wrapped: Any, captured: dict) -> Any:
    from .pytree import is_pytree_argument
    if is_pytree_argument(original):
        return _tree_gradient(original, wrapped, captured)
    if isinstance(wrapped, (list, tuple)):
        return type(original)(_gradient_like(item, leaf, captured)
                              for item, leaf in zip(original, wrapped))
    gradient = captured.get(wrapped._accumulator) if wrapped._accumulator is not None else None
    if gradient is None:
        gradient = np.zeros_like(wrapped.data)
    if isinstance(original, (int, float)):
        return float(gradient)
    if isinstance(original, complex):
        return complex(gradient)
    if isinstance(original, np.generic):
        return gradient.dtype.type(gradient)
    return np.array(gradient, copy=True)


def _output_leaves(output: Any, cotangent: Any) -> list[tuple[Any, Any]]:
    """The leaves of an output (a pytree: a dict, nested tuples...) with their cotangents
    (the matching entries of ``cotangent``; None where it has none)."""
    from .pytree import children, is_node
    if isinstance(output, Tensor) or not is_node(output):
        return [(output, cotangent)]
    items, kind, aux = children(output)
    keys = aux if kind is dict else range(len(items))
    if cotangent is not None and not isinstance(cotangent, (dict, list, tuple)) \
            and type(cotangent) is kind:
        cotangent = children(cotangent)[0]
    pairs = []
    for key, item in zip(keys, items):
        try:
            part = None if cotangent is None else cotangent[key]
        except (KeyError, IndexError, TypeError):
            raise InputError(f"the cotangent has no entry {key!r} for the output's "
                             f"{kind.__name__}") from None
        pairs.extend(_output_leaves(item, part))
    return pairs


def _plain_tree(value: Any) -> Any:
    """An output with plain NumPy values for its tensors, inside containers too."""
    from .pytree import children, is_node, rebuild
    if isinstance(value, Tensor) or not is_node(value) or value is None:
        return _plain_value(value)
    if isinstance(value, dict):
        return {key: _plain_tree(item) for key, item in value.items()}
    items, kind, aux = children(value)
    return rebuild(kind, aux, [_plain_tree(item) for item in items])


def _plain_value(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.data[()] if value.data.ndim == 0 else value.data
    return value


def _cotangent_seed(output: Tensor, cotangent: Any) -> np.ndarray:
    if cotangent is None:
        if output.data.size != 1:
            raise InputError("a cotangent is needed for an output with more than one element")
        if output.data.dtype.kind == "c":
            raise InputError("a cotangent is needed for a complex output")
        return np.ones_like(output.data)
    seed = _internal_seed(np.asarray(cotangent.data if isinstance(cotangent, Tensor)
                                     else cotangent), output, InputError)
    if seed.shape != output.data.shape:
        try:
            seed = np.broadcast_to(seed, output.data.shape)
        except ValueError:
            raise InputError(f"cotangent of shape {seed.shape} for an output of shape "
                             f"{output.data.shape}") from None
    return seed
