"""The fill-in-the-middle prompt a model is given for an infilling problem."""

from __future__ import annotations

from dataclasses import dataclass

from dsc.special_tokens import FIM_BEGIN, FIM_END, FIM_HOLE


@dataclass(frozen=True)
class FimFormat:
    """A prefix-suffix-middle (PSM) prompt: ``begin + prefix + hole + suffix + end``, then middle.

    The default is DeepSeek-Coder's tokenizer (its §3.2, named in ``dsc.special_tokens``).
    Other models: e.g. StarCoder's ``<fim_prefix>``/``<fim_suffix>``/``<fim_middle>``.
    """

    begin: str = FIM_BEGIN
    hole: str = FIM_HOLE
    end: str = FIM_END

    def __post_init__(self) -> None:
        if not (self.begin and self.hole and self.end):
            raise ValueError("FimFormat sentinels must be non-empty")

    def prompt(self, prefix: str, suffix: str) -> str:
        return f"{self.begin}{prefix}{self.hole}{suffix}{self.end}"
