"""The two yardsticks every layer's tests use: numerical gradients and PyTorch.

:func:`check_gradients` compares hand-written gradients with central differences in
float64; :func:`check_against_torch` compares values and gradients with a PyTorch
computation of the same thing. Both name the array and the entry that disagrees most.

>>> import numpy as np
>>> w = np.array([1.0, -2.0])
>>> check_gradients(lambda: float((w**3).sum()), {"w": w}, {"w": 3 * w**2})
>>> check_gradients(lambda: float((w**3).sum()), {"w": w}, {"w": 3 * w})
Traceback (most recent call last):
...
AssertionError: gradient of 'w' is wrong at (1,): analytic -6, numerical 12, ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

__all__ = [
    "as_numpy",
    "assert_close",
    "check_against_torch",
    "check_gradients",
    "numerical_gradient",
]

Array = np.ndarray


def numerical_gradient(f: Callable[[], float], x: Array, eps: float = 1e-6) -> Array:
    """Central differences ``(f(x + eps e_i) - f(x - eps e_i)) / 2 eps`` for every entry.

    `x` is perturbed in place, one entry at a time, and restored; `f` must read it.
    """
    grad = np.empty(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = f()
        x[idx] = old - eps
        down = f()
        x[idx] = old
        grad[idx] = (up - down) / (2.0 * eps)
    return grad


def check_gradients(
    f: Callable[[], float],
    params: Mapping[str, Array],
    analytic: Mapping[str, Array | None],
    eps: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> None:
    """Assert that `analytic` holds df/dparam for every array in `params`.

    Parameters
    ----------
    f : callable with no arguments returning the scalar loss, computed from the
        current contents of the `params` arrays (which are perturbed in place). It must
        be deterministic: no fresh random draws between calls.
    params : name -> float64 array
    analytic : name -> array of the same shape, the gradient under test
    eps : step of the central differences.
    rtol, atol : an entry fails when ``|a - n| > max(rtol * max(|a|, |n|), atol)``,
        i.e. its relative error, with ``atol / rtol`` as the floor of the scale, exceeds
        `rtol`.

    Notes
    -----
    In float64 the central difference is off by about ``eps**2 |f'''|`` (truncation)
    plus ``1e-16 |f| / eps`` (rounding), a few 1e-9 for the losses of order 10 used
    here: hence 1e-6 relative and 1e-8 absolute, still far below the error of any
    mistake in a backward pass (a missing term, a transposed matrix, a step off by one).
    """
    assert set(params) == set(analytic), (
        f"parameters {sorted(params)} but gradients for {sorted(analytic)}"
    )
    for name, x in params.items():
        assert x.dtype == np.float64, f"{name!r}: check gradients in float64, not {x.dtype}"
        a = analytic[name]
        assert a is not None, f"no gradient was returned for {name!r}"
        a = np.asarray(a)
        assert a.shape == x.shape, f"gradient of {name!r} has shape {a.shape}, not {x.shape}"
        assert np.isfinite(a).all(), f"gradient of {name!r} is not finite"
        n = numerical_gradient(f, x, eps)
        err = np.abs(a - n)
        scale = np.maximum(np.maximum(np.abs(a), np.abs(n)), atol / rtol)
        rel = err / scale
        if rel.size and rel.max() > rtol:
            worst = np.unravel_index(int(rel.argmax()), rel.shape)
            bad = int((rel > rtol).sum())
            raise AssertionError(
                f"gradient of {name!r} is wrong at {tuple(int(i) for i in worst)}: "
                f"analytic {a[worst]:.6g}, numerical {n[worst]:.6g}, relative error "
                f"{rel[worst]:.2g} > rtol {rtol:g} (atol {atol:g}); "
                f"{bad} of {rel.size} entries fail"
            )


def as_numpy(value: Any) -> Array:
    """A NumPy array from a torch tensor (detached), a Keras tensor, or array-like."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def assert_close(name: str, ours: Any, theirs: Any, rtol: float, atol: float) -> None:
    """Shape and dtype first, then ``|ours - theirs| <= atol + rtol |theirs|`` entry-wise."""
    a, b = np.asarray(ours), as_numpy(theirs)
    assert a.shape == b.shape, f"{name}: shape {a.shape}, reference {b.shape}"
    assert a.dtype == b.dtype, f"{name}: dtype {a.dtype}, reference {b.dtype}"
    err = np.abs(a.astype(np.float64) - b.astype(np.float64))
    tol = atol + rtol * np.abs(b.astype(np.float64))
    if err.size and not (err <= tol).all():
        worst = np.unravel_index(int(np.argmax(err - tol)), err.shape)
        raise AssertionError(
            f"{name}: differs at {tuple(int(i) for i in worst)}: ours {a[worst]!r}, "
            f"reference {b[worst]!r}, |diff| {err[worst]:.3g} > {tol[worst]:.3g} "
            f"(rtol {rtol:g}, atol {atol:g}); {int((err > tol).sum())} of {err.size} entries"
        )


def check_against_torch(
    values: Mapping[str, tuple[Any, Any]],
    grads: Mapping[str, tuple[Any, Any]] | None = None,
    *,
    rtol: float = 1e-12,
    atol: float = 1e-14,
    grad_rtol: float = 1e-10,
    grad_atol: float = 1e-13,
) -> None:
    """Compare ``name -> (ours, torch's)`` values, then gradients, in that order.

    Torch's side may be a tensor (``.grad`` included) or anything array-like. Every
    shape and dtype is checked before any number, so a transposed matrix or a float32
    leak is reported as such. Gradients get their own tolerances: they pass through
    more operations than the values (the defaults are for float64, where both sides
    differ only in the order of their sums).
    """
    pytest.importorskip("torch")
    grads = grads or {}
    pairs = [(f"value {k}", v) for k, v in values.items()]
    pairs += [(f"gradient {k}", v) for k, v in grads.items()]
    for name, (ours, theirs) in pairs:
        assert theirs is not None, f"{name}: torch computed none (no requires_grad?)"
        a, b = np.asarray(ours), as_numpy(theirs)
        assert a.shape == b.shape, f"{name}: shape {a.shape}, torch {b.shape}"
        assert a.dtype == b.dtype, f"{name}: dtype {a.dtype}, torch {b.dtype}"
    for name, (ours, theirs) in values.items():
        assert_close(f"value {name}", ours, theirs, rtol, atol)
    for name, (ours, theirs) in grads.items():
        assert_close(f"gradient {name}", ours, theirs, grad_rtol, grad_atol)
