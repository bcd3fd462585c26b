"""A model version's signature: what an instance must hold, and how it becomes a feature row.

The training script writes the signature next to the model (in the artifact manifest) and the
serving path reads it back, so one definition decides both how the training data was encoded and
how a request is: a category's code is its index in `categories` on both sides, a boolean is 0/1,
a missing optional value is NaN (every portable runtime routes NaN down the tree's default branch).

Instances are JSON objects. Fields that are not inputs are ignored, except the `id_fields`, which
are echoed back on each prediction (the seed's example answers `{"customer_id": "c1", ...}`), and
except a field that reads as a misspelt input or an instance holding none of the inputs: a 422.

An input may be derived from a datetime or text field (`source` and `part`: optiloop.models.dateparts,
optiloop.models.textparts): the instance sends the field as it is (`"joined": "2024-03-01T14:30:00Z"`,
`"title": "..."`) and each of its inputs (`joined.month`, `title.words`, `title:love`) reads its
part, so a client never computes features.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

import numpy as np

from optiloop.errors import FieldProblem, InvalidInput
from optiloop.models import dateparts, numbers, textparts
from optiloop.models.spellings import as_bool, as_text, is_missing

InputType = Literal["number", "integer", "boolean", "category"]
Task = Literal["binary", "multiclass", "regression"]
INPUT_TYPES: tuple[str, ...] = ("number", "integer", "boolean", "category")
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")
MAX_INPUTS = 2000
MAX_CATEGORIES = 10_000
MAX_PROBLEMS = 20  # a 422 names the first few bad fields, not all ten thousand


@dataclass(frozen=True)
class Input:
    name: str
    type: InputType
    required: bool = True
    categories: tuple[str, ...] = ()  # category inputs only: the code of a value is its index here
    # a number derived from the instance's field `source`: its `part` (dateparts.PARTS of a datetime,
    # textparts' of a text)
    source: str = ""
    part: str = ""
    # how the table wrote the field, so a request's value reads as training read it: a datetime
    # source's strptime pattern (optiloop.models.dateparts.FORMATS; "" ISO-8601), a number's grouping
    # and decimal mark (optiloop.models.numbers.FORMATS; "" plain)
    format: str = ""
    # the field's stray words, read as missing (a number's, a date source's: numbers.read_column)
    missing_as: tuple[str, ...] = ()

    @property
    def field(self) -> str:
        """The instance field this input reads."""
        return self.source or self.name

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        if self.type == "category":
            out["categories"] = list(self.categories)
        if self.source:
            out |= {"source": self.source, "part": self.part}
        if self.format:
            out["format"] = self.format
        if self.missing_as:
            out["missing_as"] = list(self.missing_as)
        return out


@dataclass(frozen=True)
class Signature:
    task: Task
    inputs: tuple[Input, ...]
    classes: tuple[Any, ...] = ()  # classification: the label of output k (binary: [negative, positive])
    id_fields: tuple[str, ...] = ()
    _index: dict[str, dict[str, int]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.task == "multiclass" else 1

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"task": self.task, "inputs": [i.as_dict() for i in self.inputs]}
        if self.classes:
            out["classes"] = list(self.classes)
        if self.id_fields:
            out["id_fields"] = list(self.id_fields)
        return out

    def codes(self, inp: Input) -> dict[str, int]:
        index = self._index.get(inp.name)
        if index is None:
            index = {c: k for k, c in enumerate(inp.categories)}
            self._index[inp.name] = index
        return index

    def encode(self, instances: Sequence[Any], *, where: str = "instances") -> np.ndarray:
        """Instances -> a float64 matrix (rows x inputs), or InvalidInput naming `instances[i].field`.

        A category value that training never saw is treated as missing (NaN), not refused: new
        values appear in production all the time, and the drift monitor is where they are counted.
        Values are read as ingest read the uploaded table (`optiloop.models.spellings`): `"73"` for a
        number, `"yes"` for a boolean, `""`/`"NA"`/`"null"` for a missing value, `3.0` for the
        category `"3"` — a row sent as it sat in the CSV means what it meant at training time."""
        x = np.full((len(instances), len(self.inputs)), np.nan, dtype=np.float64)
        problems: list[FieldProblem] = []
        for r, inst in enumerate(instances):
            if len(problems) >= MAX_PROBLEMS:
                break
            if not isinstance(inst, Mapping):
                problems.append(FieldProblem(f"{where}[{r}]", "must be an object of input fields"))
                continue
            absent = False
            dates: dict[str, datetime | None] = {}  # a datetime field parsed once for all its parts
            texts: dict[str, Counter[str]] = {}  # a text field's words counted once
            for c, inp in enumerate(self.inputs):
                v = inst.get(inp.field)
                if (
                    v is None
                    or (is_missing(v) and not _is_category(self, inp, v))
                    or (inp.missing_as and isinstance(v, str) and v.strip() in inp.missing_as)
                ):
                    absent = absent or inp.field not in inst
                    if inp.required:
                        problems.append(FieldProblem(f"{where}[{r}].{inp.field}", "is required"))
                    continue
                if inp.source and inp.part not in dateparts.PARTS:  # a text's part
                    if not isinstance(v, (str, int, float)):
                        if inp.source not in texts:  # one problem per field, not one per part
                            texts[inp.source] = Counter()
                            why = f"must be text, got {type(v).__name__}"
                            problems.append(FieldProblem(f"{where}[{r}].{inp.source}", why))
                        continue
                    text = v if isinstance(v, str) else as_text(v)
                    if inp.source not in texts:
                        texts[inp.source] = textparts.counted(text)
                    x[r, c] = textparts.part(text, texts[inp.source], inp.part)
                    continue
                if inp.source:
                    if inp.source not in dates:
                        dates[inp.source] = dateparts.parse(v, inp.format)
                        if dates[inp.source] is None:  # one problem per field, not one per part
                            like = f"a date written {inp.format!r} or an" if inp.format else "an"
                            why = f"must be {like} ISO-8601 date or timestamp, got {_shown(v)}"
                            problems.append(FieldProblem(f"{where}[{r}].{inp.source}", why))
                    d = dates[inp.source]
                    if d is not None:
                        x[r, c] = dateparts.part(d, inp.part)
                    continue
                val = _encode_value(self, inp, v)
                if isinstance(val, str):
                    problems.append(FieldProblem(f"{where}[{r}].{inp.name}", val))
                else:
                    x[r, c] = val
            if absent:
                problems.extend(self._misspelt(inst, f"{where}[{r}]"))
        if problems:
            raise InvalidInput(problems[:MAX_PROBLEMS])
        return x

    def _misspelt(self, inst: Mapping[str, Any], at: str) -> list[FieldProblem]:
        """Fields of an instance that read as a misspelt input, or the whole instance when it holds
        none of the inputs. Other fields are ignored on purpose (a row may carry its target or an id),
        but an input that is optional is otherwise scored silently as missing under a typo
        (`"Income"` for `"income"`), which answers with a confident prediction of the wrong row."""
        names = self._input_names
        unknown = [k for k in inst if isinstance(k, str) and k not in names and k not in self.id_fields]
        if not unknown:
            return []  # `{}` asks, explicitly, for the answer on a row of missing values
        if not any(k in names for k in inst):
            shown = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
            return [FieldProblem(at, f"holds none of the model's inputs ({shown})")]
        missing = sorted({i.field for i in self.inputs if i.field not in inst})
        out = []
        for k in unknown[:MAX_PROBLEMS]:
            near = difflib.get_close_matches(k, missing, n=1, cutoff=0.8) or [
                m for m in missing if m.casefold() == k.casefold()
            ]
            if near:
                out.append(
                    FieldProblem(f"{at}.{k}", f"is not an input of this model; did you mean '{near[0]}'?")
                )
        return out

    @cached_property
    def _input_names(self) -> frozenset[str]:
        return frozenset(i.field for i in self.inputs)


def _encode_value(sig: Signature, inp: Input, v: Any) -> float | str:
    """The value's feature, or the reason it is not acceptable."""
    if inp.type == "category":
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            return f"must be one of the categories (a string or number), got {type(v).__name__}"
        code = sig.codes(inp).get(as_text(v))
        return math.nan if code is None else float(code)
    if inp.type == "boolean":
        b = as_bool(v)
        if b is None:
            return f"must be true or false, got {_shown(v)}"
        return 1.0 if b else 0.0
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        return f"must be a number, got {type(v).__name__}"
    f_or_none = numbers.read(v, inp.format)  # an infinity never gets here: `is_missing` read it as missing
    if f_or_none is None:
        written = f" (written like {inp.format!r})" if inp.format else ""
        return f"must be a number{written}, got {_shown(v)}"
    f = f_or_none
    if inp.type == "integer" and not f.is_integer():
        return "must be an integer"
    return f


def _is_category(sig: Signature, inp: Input, v: Any) -> bool:
    """A category spelt like a missing value (`"none"`, `"NA"`) that training did see is a category."""
    return inp.type == "category" and isinstance(v, str) and as_text(v) in sig.codes(inp)


def _shown(v: Any) -> str:
    """The offending value in a 422: its type, and a short string quoted (never a long one whole)."""
    return repr(v[:40]) if isinstance(v, str) else type(v).__name__


def parse_signature(raw: Any, *, where: str = "signature") -> Signature:
    """A signature from its JSON form, or InvalidInput naming what is wrong (the field path)."""
    problems: list[FieldProblem] = []
    if not isinstance(raw, Mapping):
        raise InvalidInput(FieldProblem(where, "must be an object with task and inputs"))
    task = raw.get("task")
    if task not in TASKS:
        problems.append(FieldProblem(f"{where}.task", f"must be one of {', '.join(TASKS)}, got {task!r}"))
    raw_inputs = raw.get("inputs")
    inputs: list[Input] = []
    if not isinstance(raw_inputs, list) or not raw_inputs or len(raw_inputs) > MAX_INPUTS:
        problems.append(FieldProblem(f"{where}.inputs", f"must be a list of 1..{MAX_INPUTS} inputs"))
        raw_inputs = []
    seen: set[str] = set()
    for k, ri in enumerate(raw_inputs):
        at = f"{where}.inputs[{k}]"
        if not isinstance(ri, Mapping):
            problems.append(FieldProblem(at, "must be an object with name and type"))
            continue
        name, typ = ri.get("name"), ri.get("type")
        if not isinstance(name, str) or not name or len(name) > 200:
            problems.append(FieldProblem(f"{at}.name", "must be a non-empty string of at most 200 chars"))
            continue
        if name in seen:
            problems.append(FieldProblem(f"{at}.name", f"duplicate input {name!r}"))
        seen.add(name)
        if typ not in INPUT_TYPES:
            problems.append(FieldProblem(f"{at}.type", f"must be one of {', '.join(INPUT_TYPES)}"))
            continue
        cats = ri.get("categories", [])
        if typ == "category" and (
            not isinstance(cats, list)
            or not cats
            or len(cats) > MAX_CATEGORIES
            or len({str(c) for c in cats}) != len(cats)
        ):
            problems.append(
                FieldProblem(f"{at}.categories", f"must list 1..{MAX_CATEGORIES} distinct categories")
            )
            continue
        required = ri.get("required", True)
        if not isinstance(required, bool):
            problems.append(FieldProblem(f"{at}.required", "must be true or false"))
            continue
        source, part = ri.get("source", ""), ri.get("part", "")
        if source or part:
            if not isinstance(source, str) or not source or len(source) > 200:
                problems.append(
                    FieldProblem(f"{at}.source", "must name the datetime or text field the input reads")
                )
                continue
            if not (part in dateparts.PARTS or textparts.is_part(part)) or typ != "number":
                kinds = (
                    f"a date part ({', '.join(dateparts.PARTS)}) or a text part (chars, words, token:<word>)"
                )
                problems.append(FieldProblem(f"{at}.part", f"a number input's {kinds}"))
                continue
        fmt, missing_as = ri.get("format", ""), ri.get("missing_as", [])
        formats = (dateparts.FORMATS if part in dateparts.PARTS else ()) if source else numbers.FORMATS
        if not isinstance(fmt, str) or (fmt and (fmt not in formats or typ != "number")):
            problems.append(
                FieldProblem(
                    f"{at}.format", "a date source's dateparts.FORMATS or a number's numbers.FORMATS"
                )
            )
            continue
        if (
            not isinstance(missing_as, list)
            or len(missing_as) > numbers.MAX_STRAY
            or not all(isinstance(w, str) and w for w in missing_as)
            or (missing_as and typ != "number")
        ):
            problems.append(FieldProblem(f"{at}.missing_as", f"a number's 0..{numbers.MAX_STRAY} words"))
            continue
        inputs.append(
            Input(
                name=name,
                type=typ,
                required=required,
                categories=tuple(str(c) for c in cats) if typ == "category" else (),
                source=source,
                part=part,
                format=fmt,
                missing_as=tuple(missing_as),
            )
        )
    classes = raw.get("classes", [])
    if task in ("binary", "multiclass"):
        need = 2 if task == "binary" else 3
        if (
            not isinstance(classes, list)
            or len(classes) < need
            or (task == "binary" and len(classes) != 2)
            or len({json_key(c) for c in classes}) != len(classes)
        ):
            problems.append(
                FieldProblem(
                    f"{where}.classes",
                    "binary: exactly 2 distinct labels [negative, positive]"
                    if task == "binary"
                    else "multiclass: at least 3 distinct labels",
                )
            )
    elif classes:
        problems.append(FieldProblem(f"{where}.classes", "a regression signature has no classes"))
    ids = raw.get("id_fields", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        problems.append(FieldProblem(f"{where}.id_fields", "must be a list of field names"))
        ids = []
    if problems:
        raise InvalidInput(problems)
    return Signature(
        task=task,  # type: ignore[arg-type]  # checked against TASKS above
        inputs=tuple(inputs),
        classes=tuple(classes) if task != "regression" else (),
        id_fields=tuple(ids),
    )


def json_key(v: Any) -> str:
    return f"{type(v).__name__}:{v}"
