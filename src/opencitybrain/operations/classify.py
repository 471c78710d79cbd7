"""Suggest a case class from a 12345 caller's free text.

Chinese has no spaces, so the features are character n-grams (1–2), weighted tf-idf with
sublinear term frequency and normalised per text; the model is multinomial logistic
regression with an L2 penalty, fitted by L-BFGS (numpy + scipy, no new dependency). It
learns from the shipped labelled sample (:mod:`opencitybrain.operations.corpus`) plus each
active class's own name and keywords, so a class the bureau adds later is suggested from
its keywords until the sample grows. Fitting takes about a second; the platform does it
once, on first use.

Logistic regression was chosen over naive Bayes because its probabilities are usable as
confidence: naive Bayes multiplies thousands of dependent n-gram likelihoods and puts
0.99+ on nearly every answer, right or wrong, so "unsure" could not be told apart. A
suggestion is *confident* when its probability reaches ``min_confidence``; below that the
intake asks a person to choose (see docs/operations.md for the held-out figures).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import minimize

from opencitybrain.operations.classes import CaseClass
from opencitybrain.operations.corpus import Example, labelled_sample

NGRAMS = (1, 2)
_DROP = re.compile(r"[\s，。、！？；：,.!?;:\"'“”‘’（）()【】\[\]《》<>…—\-~·]+")
KEYWORD_WEIGHT = 3  # a class's own words count as this many examples each
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A class the text probably describes, and how sure the model is (0–1)."""

    code: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Classified:
    """The top suggestions, best first, and whether the best may be taken without a person."""

    suggestions: tuple[Suggestion, ...]
    confident: bool

    @property
    def best(self) -> Suggestion:
        """Return the best suggestion."""
        return self.suggestions[0]


def grams(text: str) -> list[str]:
    """Return the character n-grams of a text, punctuation and spaces dropped."""
    parts = [p for p in _DROP.split(text.lower()) if p]
    out: list[str] = []
    for part in parts:
        for n in NGRAMS:
            out.extend(part[i : i + n] for i in range(len(part) - n + 1))
    return out


class Vectoriser:
    """Texts → tf-idf rows over the n-grams seen in training (unknown n-grams ignored)."""

    def __init__(self, texts: Sequence[str]) -> None:
        docs = [grams(t) for t in texts]
        vocab: dict[str, int] = {}
        df: dict[int, int] = {}
        for doc in docs:
            for g in set(doc):
                j = vocab.setdefault(g, len(vocab))
                df[j] = df.get(j, 0) + 1
        self.vocab = vocab
        counts = np.array([df[j] for j in range(len(vocab))], dtype=np.float64)
        self.idf: FloatArray = np.log((1.0 + len(docs)) / (1.0 + counts)) + 1.0

    def __call__(self, texts: Iterable[str]) -> sparse.csr_matrix:
        # Count in Python (dict lookups only), weigh and normalise in numpy.
        vocab = self.vocab
        rows: list[int] = []
        cols: list[int] = []
        counts: list[int] = []
        n = 0
        for i, text in enumerate(texts):
            n = i + 1
            tf: dict[int, int] = {}
            for g in grams(text):
                j = vocab.get(g)
                if j is not None:
                    tf[j] = tf.get(j, 0) + 1
            rows.extend([i] * len(tf))
            cols.extend(tf.keys())
            counts.extend(tf.values())
        col = np.asarray(cols, dtype=np.int64)
        vals = (1.0 + np.log(np.asarray(counts, dtype=np.float64))) * self.idf[col]
        m = sparse.csr_matrix((vals, (rows, col)), shape=(n, len(vocab)))
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms) @ m)


def _softmax(z: FloatArray) -> FloatArray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: FloatArray = e / e.sum(axis=1, keepdims=True)
    return out


class TextClassifier:
    """Multinomial logistic regression over character n-grams."""

    def __init__(
        self, examples: Sequence[Example], *, l2: float = 2e-5, min_confidence: float = 0.45
    ) -> None:
        if not examples:
            raise ValueError("no examples to learn from")
        self.labels = sorted({e.code for e in examples})
        self.min_confidence = min_confidence
        index = {c: k for k, c in enumerate(self.labels)}
        self.vectorise = Vectoriser([e.text for e in examples])
        x = self.vectorise(e.text for e in examples)
        y = np.array([index[e.code] for e in examples])
        n, d = x.shape
        k = len(self.labels)
        onehot = np.zeros((n, k))
        onehot[np.arange(n), y] = 1.0

        def loss(flat: FloatArray) -> tuple[float, FloatArray]:
            w = flat[: d * k].reshape(d, k)
            b = flat[d * k :]
            p = _softmax(np.asarray(x @ w) + b)
            nll = -float(np.log(p[np.arange(n), y] + 1e-12).sum()) / n
            g = (p - onehot) / n
            grad_w = np.asarray(x.T @ g) + l2 * w
            return nll + 0.5 * l2 * float((w * w).sum()), np.concatenate(
                [grad_w.ravel(), g.sum(axis=0)]
            )

        fit = minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                       options={"maxiter": 300})  # fmt: skip
        self.w: FloatArray = fit.x[: d * k].reshape(d, k)
        self.b: FloatArray = fit.x[d * k :]

    def proba(self, texts: Sequence[str]) -> FloatArray:
        """Return each text's probability per label (rows sum to 1)."""
        return _softmax(np.asarray(self.vectorise(texts) @ self.w) + self.b)

    def classify(self, text: str, k: int = 3) -> Classified:
        """Return the top ``k`` suggestions for one text and whether the best is confident."""
        return self.classify_many([text], k)[0]

    def classify_many(self, texts: Sequence[str], k: int = 3) -> list[Classified]:
        """Return the top ``k`` suggestions for each text (one vectorised pass)."""
        if not texts:
            return []
        p = self.proba(texts)
        top = np.argsort(-p, axis=1)[:, :k]
        out = []
        for row, idx in zip(p, top, strict=True):
            sugg = tuple(Suggestion(self.labels[j], round(float(row[j]), 4)) for j in idx)
            out.append(Classified(sugg, sugg[0].confidence >= self.min_confidence))
        return out

    def accuracy(self, examples: Sequence[Example], k: int = 1) -> float:
        """Return the share of examples whose class is among the top ``k`` suggestions."""
        p = self.proba([e.text for e in examples])
        top = np.argsort(-p, axis=1)[:, :k]
        hits = sum(
            e.code in {self.labels[j] for j in row} for e, row in zip(examples, top, strict=True)
        )
        return hits / len(examples)


def class_examples(classes: Iterable[CaseClass]) -> list[Example]:
    """Return each active class's name and keywords as short examples of itself."""
    out = []
    for c in classes:
        if c.active:
            out += [Example(t, c.code) for t in (c.name_zh, *c.keywords) if t]
    return out * KEYWORD_WEIGHT


def train(classes: Sequence[CaseClass], *, held_out: bool = False) -> TextClassifier:
    """Fit on the shipped sample (its held-out part too, unless ``held_out``) and the classes.

    Sample examples of classes that are not in ``classes`` (or retired) are left out, so
    the classifier never suggests a class that intake would refuse.
    """
    active = {c.code for c in classes if c.active}
    train_part, test_part = labelled_sample()
    sample = train_part if held_out else train_part + test_part
    return TextClassifier([e for e in sample if e.code in active] + class_examples(classes))
