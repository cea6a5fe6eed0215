"""Optional LLM judge of citation support (ALCE-style): does the cited text entail the sentence?

Every answer sentence that carries valid citation marks is put to the model with the
quotes it cites; the judge replies yes or no. The share of "yes" is the support
score. The prompt is the Jinja2 file ``judge_support.j2`` beside this module,
rendered with ``StrictUndefined``. Verdicts are cached per (statement, passages), so
the same sentence citing the same quotes is judged once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from imr_assist.answer.llm_client import LLMClient
from imr_assist.errors import ConfigError
from imr_assist.evaluate.metrics import AnswerObs, answer_sentences, strip_marks

TEMPLATE = "judge_support.j2"
_MARK = re.compile(r"\[(\d+)\]")


@dataclass
class Verdict:
    statement: str
    cited: list[int]
    supported: bool
    reply: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "statement": self.statement,
            "cited": self.cited,
            "supported": self.supported,
            "reply": self.reply,
        }


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(  # noqa: S701 - plain-text prompt, not HTML
        loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    return env.get_template(TEMPLATE)


def render_prompt(statement: str, passages: list[dict[str, Any]]) -> str:
    try:
        return _template().render(statement=statement, passages=passages)
    except jinja2.UndefinedError as err:
        raise ConfigError(f"prompt {TEMPLATE}: {err.message}") from None


def read_verdict(reply: str) -> bool:
    """True only for a reply that starts with "yes"."""
    words = re.findall(r"[a-z]+", reply.lower())
    return bool(words) and words[0] == "yes"


class CitationJudge:
    """Asks a model, through the project's LLM client, whether citations support sentences."""

    def __init__(self, client: LLMClient) -> None:
        self.client = client
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[bool, str]] = {}
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0}

    @property
    def model(self) -> str:
        return self.client.config.model

    def judge(self, obs: AnswerObs) -> list[Verdict]:
        """A verdict for every sentence of the answer that cites valid quotes."""
        if not obs.answered:
            return []
        by_n = {c.n: c for c in obs.citations if c.valid}
        verdicts = []
        for sentence in answer_sentences(obs.text):
            cited = [int(n) for n in dict.fromkeys(_MARK.findall(sentence)) if int(n) in by_n]
            if not cited:
                continue
            statement = " ".join(strip_marks(sentence).split())
            quotes = tuple(by_n[n].quote for n in cited)
            passages = [{"n": n, "quote": q} for n, q in zip(cited, quotes, strict=True)]
            key = (statement, quotes)
            if key not in self._cache:
                prompt = render_prompt(statement, passages)
                reply = self.client.complete([{"role": "user", "content": prompt}])
                for k in self.usage:
                    self.usage[k] += reply.usage.get(k, 0)
                self._cache[key] = (read_verdict(reply.text), reply.text.strip())
            supported, raw = self._cache[key]
            verdicts.append(Verdict(statement, cited, supported, raw))
        return verdicts


def supported_share(verdicts: list[Verdict]) -> float | None:
    return sum(v.supported for v in verdicts) / len(verdicts) if verdicts else None
