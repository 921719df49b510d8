"""Shared scikit-learn plumbing for the invariant-feature transformers."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data


class InvariantTransformer(TransformerMixin, BaseEstimator):
    """Base class: validates input like scikit-learn (finite, 2-D, dense, numeric); float32 in, float32 out.

    Subclasses implement ``_fit(X)`` (store what ``transform`` needs, set
    ``n_features_out_``), ``_transform(X)`` and ``_feature_names(names_in)``.
    """

    def _validate(self, X: Any, *, reset: bool) -> np.ndarray:
        return validate_data(self, X, reset=reset, dtype=(np.float64, np.float32), ensure_all_finite=True,
                             accept_sparse=False, ensure_min_samples=1)

    def fit(self, X: Any, y: Any = None) -> InvariantTransformer:
        """Validate ``X`` of shape ``(n_samples, n_features)`` and prepare the feature map."""
        X = self._validate(X, reset=True)
        self._fit(X)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Invariant features, shape ``(n_samples, n_features_out_)``, in the dtype of ``X`` (float32 or float64)."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return np.ascontiguousarray(self._transform(X), dtype=X.dtype)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output features (built from the input names)."""
        check_is_fitted(self)
        if input_features is None:
            names = getattr(self, "feature_names_in_", None)
            names = list(names) if names is not None else [f"x{i}" for i in range(self.n_features_in_)]
        else:
            names = [str(v) for v in input_features]
            if len(names) != self.n_features_in_:
                raise ValueError(
                    f"input_features must have {self.n_features_in_} names, got {len(names)}"
                )
            fin = getattr(self, "feature_names_in_", None)
            if fin is not None and list(fin) != names:
                raise ValueError("input_features is not equal to feature_names_in_")
        return np.asarray(self._feature_names(names), dtype=object)

    # -- hooks ---------------------------------------------------------------------------
    def _fit(self, X: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _transform(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _feature_names(self, names: list[str]) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError
