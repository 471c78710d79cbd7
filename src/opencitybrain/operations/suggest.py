"""The 12345 desk's helper: the classifier for the class table in force, fitted once.

The model is fitted in the background when the platform seeds its class table (or on
first use) and kept per version of the table (codes, names, keywords, active flags): an
edit by the bureau makes the next suggestion fit again, and platforms with the same table
(workers, tests) share one fit within a process.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from opencitybrain.kernel.errors import FieldError, InvalidInput
from opencitybrain.operations.classes import CaseClass
from opencitybrain.operations.classify import Classified, TextClassifier, train

_KEEP = 4
_fitted: dict[tuple[object, ...], TextClassifier] = {}
_lock = threading.Lock()


def _signature(classes: Sequence[CaseClass]) -> tuple[object, ...]:
    return tuple(sorted((c.code, c.name_zh, c.keywords, c.active) for c in classes))


def classifier_for(classes: Sequence[CaseClass]) -> TextClassifier:
    """Return the classifier fitted for this class table (fitting it the first time)."""
    key = _signature(classes)
    with _lock:
        found = _fitted.get(key)
        if found is None:
            found = train(classes)
            if len(_fitted) >= _KEEP:
                _fitted.pop(next(iter(_fitted)))
            _fitted[key] = found
        return found


def warm(classes: Sequence[CaseClass]) -> threading.Thread:
    """Fit the classifier for this table in a background thread (a first call waits on it)."""
    thread = threading.Thread(
        target=classifier_for, args=(list(classes),), name="class-suggester-fit", daemon=True
    )
    thread.start()
    return thread


def chosen_code(text: str, found: Classified, names: dict[str, str]) -> str:
    """Return the confident suggestion's code, or refuse so that a person chooses."""
    if found.confident:
        return found.best.code
    listed = "、".join(
        f"{s.code} {names.get(s.code, '')}（{s.confidence:.0%}）" for s in found.suggestions
    )
    listed_en = ", ".join(f"{s.code} ({s.confidence:.0%})" for s in found.suggestions)
    raise InvalidInput(
        "case.class_unsure",
        f"无法从描述确定分类，请选择 class_code，建议：{listed}",
        f"the description does not settle the class; choose a class_code, e.g. {listed_en}",
        (FieldError("class_code", "required when the text does not settle it: " + listed_en),),
    )
