r"""Answer extraction from model output: the final answer, a number, an option letter.

All functions take any string (non-strings are converted with ``str``; ``None`` is empty), never raise,
never ``eval`` anything and run in linear time (every regular expression is anchored on literals or
has no nested/overlapping quantifiers).

**extract_answer** — precedence:

1. the content of the LAST ``<answer>`` tag: up to its ``</answer>``, or to the end of the text when the
   last tag is unclosed (truncated generation). An empty unclosed last tag falls back to the last
   complete ``<answer>…</answer>``;
2. otherwise the text after the last ``</think>`` (reasoning models that forget the answer tags),
   otherwise the whole text;
3. then, within that, the content of the last ``\boxed{…}`` when there is one.

**parse_number** — the first number token wins, digits or words, whichever starts first:

* digits with optional sign, decimals, exponent: ``-3``, ``3.5``, ``.5``, ``2e3``, ``1.5E-2``;
* a comma followed by exactly three digits (repeatable) is a thousands separator (``1,200`` → 1200,
  ``1,234,567.5``); any other comma between digits is a decimal comma (``3,5`` → 3.5);
* units and words around it are ignored (``3.5 m``, ``about 2 meters``);
* English number words (``zero`` … ``nineteen``, tens, ``hundred``, ``thousand``, ``million``,
  ``billion``) joined by spaces, hyphens or ``and``: ``twenty-one`` → 21, ``one hundred and five``
  → 105, ``a hundred`` → 100. The articles ``a``/``an`` alone are NOT the number 1;
* overflowing digit strings give ``inf`` (NAR scores them 0.0).

**parse_choice** — the first rule that applies:

1. the whole answer is one letter, optionally bracketed or followed by ``.``, ``)`` or ``:``
   (``B``, ``b``, ``B.``, ``(B)``);
2. an explicit phrase, the LAST one wins: ``answer is (B)``, ``answer: B``, ``option B``, ``choice B``;
3. the answer starts with a capital letter followed by ``.``, ``)``, ``:``, or bracketed
   (``B. sofa``, ``(C) chair``), or by a space when the letter is not ``A``/``I`` (``B sofa``);
4. option text: with ``options`` like ``["A. sofa", "B. chair"]``, the one option whose text appears
   (word-bounded, case-insensitive) in the answer; a match contained in a longer matching option's
   text is dropped; several different options → no answer;
5. a single distinct standalone capital letter among the valid letters (the option letters, else A–Z),
   e.g. ``I think B is right``.

The article rule: a capital ``A`` or ``I`` followed by a space and a lowercase letter is a word
(``A chair is closer``), never a choice letter; write ``A.`` / ``(A)`` / ``answer is A`` for the letter.

>>> extract_answer("<think>It is 2 m</think><answer>3.5</answer>")
'3.5'
>>> parse_number("about twenty-one chairs"), parse_number("1,200"), parse_number("3,5 m")
(21.0, 1200.0, 3.5)
>>> parse_choice("The answer is (B)."), parse_choice("A chair", ["A. sofa", "B. chair"])
('B', 'B')
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["extract_answer", "parse_number", "parse_choice"]


def _as_text(text: Any) -> str:
    if text is None:
        return ""
    return text if isinstance(text, str) else str(text)


# ---------------------------------------------------------------------------------------------- extraction
_ANSWER_TAG = re.compile(r"<(/?)answer>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)


_BRACES = re.compile(r"\\boxed\{|[{}]")


def _last_boxed(text: str) -> str | None:
    """Content of the closed ``\\boxed{…}`` that closes last (one linear pass with a brace stack)."""
    stack: list[int] = []  # content start of each open brace; -1 for a plain "{"
    best: tuple[int, int] | None = None
    for m in _BRACES.finditer(text):
        tok = m.group(0)
        if tok == "}":
            if stack:
                start = stack.pop()
                if start >= 0:
                    best = (start, m.start())
        else:
            stack.append(m.end() if tok != "{" else -1)
    return None if best is None else text[best[0] : best[1]]


def _tag_content(text: str) -> str | None:
    last_open: int | None = None  # end index of the last <answer>
    open_for_pair: int | None = None
    last_pair: tuple[int, int] | None = None
    for m in _ANSWER_TAG.finditer(text):
        if m.group(1):  # closing tag
            if last_open is not None:
                last_pair = (last_open, m.start())
                open_for_pair = last_open
        else:
            last_open = m.end()
    if last_open is None:
        return None
    if last_pair is not None and open_for_pair == last_open:
        return text[last_pair[0] : last_pair[1]]
    tail = text[last_open:]  # the last <answer> is unclosed
    if tail.strip() or last_pair is None:
        return tail
    return text[last_pair[0] : last_pair[1]]


def extract_answer(text: Any) -> str:
    r"""The final answer in a model completion (see the module docstring for the precedence).

    Args:
        text: a model completion (any object; ``None`` is empty).

    Returns:
        The stripped answer text ("" when there is none).

    >>> extract_answer("<think>..</think><answer>A</answer> wait <answer>B</answer>")
    'B'
    >>> extract_answer("<think>hmm</think><answer> 12 ")
    '12'
    >>> extract_answer("so the result is \\boxed{4.5} meters")
    '4.5'
    >>> extract_answer("<think>maybe 3</think> 4 chairs")
    '4 chairs'
    """
    s = _as_text(text)
    content = _tag_content(s)
    if content is None:
        last_close = None
        for last_close in _THINK_CLOSE.finditer(s):  # noqa: B007 - keep the last match
            pass
        content = s[last_close.end() :] if last_close is not None else s
    boxed = _last_boxed(content)
    if boxed is not None:
        content = boxed
    return content.strip()


# ---------------------------------------------------------------------------------------------- numbers
_NUMBER = re.compile(
    r"(?P<sign>(?<![\w.])[-+\u2212])?"
    r"(?:(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?P<frac>[.,]\d+)?|(?P<dotfrac>\.\d+))"
    r"(?:[eE](?P<exp>[-+]?\d+))?"
)
_WORD = re.compile(r"[A-Za-z]+")
_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_ARTICLES = frozenset({"a", "an"})


def _digits_value(m: re.Match[str]) -> float:
    if m.group("dotfrac") is not None:
        body = "0" + m.group("dotfrac")
    else:
        body = m.group("int").replace(",", "")
        if m.group("frac") is not None:
            body += "." + m.group("frac")[1:]
    if m.group("exp") is not None:
        body += "e" + m.group("exp")
    value = float(body)  # plain decimal literal: float() parses it, overflow gives inf
    return -value if m.group("sign") in ("-", "\u2212") else value


def _is_joiner(gap: str) -> bool:
    return len(gap) <= 8 and gap.strip(" \t-") == ""


def _word_number(text: str, stop: int) -> tuple[int, float] | None:
    """The first run of number words starting before ``stop``: (start, value)."""
    run: list[str] = []
    run_start = -1
    prev_end = -1
    pending_and = False
    for m in _WORD.finditer(text):
        tok = m.group(0).lower()
        if not run:
            if m.start() >= stop:
                return None
            if tok in _UNITS or tok in _SCALES:
                run, run_start, prev_end = [tok], m.start(), m.end()
            elif tok in _ARTICLES:
                # "a hundred" -> 100; a lone article is not a number
                nxt = _WORD.match(text, m.end() + 1) if text[m.end() : m.end() + 1] == " " else None
                if nxt is not None and nxt.group(0).lower() in _SCALES:
                    run, run_start, prev_end = ["one"], m.start(), m.end()
            continue
        if not _is_joiner(text[prev_end : m.start()]):
            break
        if tok == "and" and not pending_and:
            pending_and, prev_end = True, m.end()
            continue
        if tok in _UNITS or tok in _SCALES:
            run.append(tok)
            prev_end, pending_and = m.end(), False
            continue
        break
    if not run:
        return None
    total, current = 0, 0
    for tok in run:
        if tok in _UNITS:
            current += _UNITS[tok]
        elif _SCALES[tok] == 100:
            current = max(current, 1) * 100
        else:
            total += max(current, 1) * _SCALES[tok]
            current = 0
    return run_start, float(total + current)


def parse_number(text: Any) -> float | None:
    """The first number in ``text`` (digits or English words, whichever comes first), else ``None``.

    Args:
        text: an answer string (any object; ``None`` gives ``None``).

    Returns:
        The value as a float (possibly ±inf for overflowing digit strings), or ``None``.

    >>> parse_number("3.5 m"), parse_number("-2"), parse_number("2.5e3"), parse_number("one hundred and five")
    (3.5, -2.0, 2500.0, 105.0)
    >>> parse_number("a chair"), parse_number("two chairs, not 3"), parse_number("3 or four")
    (None, 2.0, 3.0)
    """
    s = _as_text(text)
    digits = _NUMBER.search(s)
    stop = digits.start() if digits is not None else len(s)
    words = _word_number(s, stop)
    if words is not None:
        return words[1]
    if digits is not None:
        return _digits_value(digits)
    return None


# ---------------------------------------------------------------------------------------------- choices
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_WHOLE_LETTER = re.compile(r"\(?([A-Za-z])\)?[.):]?")
_PHRASE = re.compile(
    r"\b(?i:answer|option|choice)\b(?:\s{0,5}(?i:is|would\s+be|should\s+be|:))?"
    r"(?:\s{0,5}(?i:option|choice))?[\s:*]{0,5}\(?([A-Za-z])(?![A-Za-z])(\)?)"
)
_LEADING = re.compile(r"\(([A-Z])\)|([A-Z])(?:[.):]|(?=\s)|$)")
_STANDALONE = re.compile(r"(?<![A-Za-z0-9])([A-Z])(?![A-Za-z0-9])")
_OPTION_PREFIX = re.compile(r"\s*\(?([A-Za-z])[.):]\s*")


_COPULAS = frozenset({"is", "was", "seems", "appears"})


def _is_article(text: str, letter_end: int, letter: str) -> bool:
    """Whether a letter candidate reads as an English word instead (the article rule).

    Capital ``I`` followed by a space and a lowercase letter is the pronoun; capital ``A`` followed by
    a space and a lowercase word is the article unless that word is a copula (``A is correct``); a
    lowercase letter followed by whitespace and a letter is a word.
    """
    nxt = _WORD.match(text, letter_end + 1) if text[letter_end : letter_end + 1] in (" ", "\t") else None
    if nxt is None:
        return False
    if letter == "I":
        return nxt.group(0)[0].islower()
    if letter == "A":
        return nxt.group(0)[0].islower() and nxt.group(0) not in _COPULAS
    return letter.islower()


def _split_options(options: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if not options or isinstance(options, (str, bytes)):
        return pairs
    try:
        items = list(options)
    except TypeError:
        return pairs
    for i, raw in enumerate(items):
        opt = _as_text(raw)
        m = _OPTION_PREFIX.match(opt)
        if m is not None:
            letter, body = m.group(1).upper(), opt[m.end() :]
        else:
            letter, body = (_LETTERS[i] if i < len(_LETTERS) else ""), opt
        body = body.strip().rstrip(".").strip()
        if letter and body:
            pairs.append((letter, body))
    return pairs


def _word_bounded_find(haystack: str, needle: str) -> tuple[int, int] | None:
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        before = haystack[start - 1] if start > 0 else " "
        after = haystack[end] if end < len(haystack) else " "
        if not before.isalnum() and not after.isalnum():
            return start, end
        start = haystack.find(needle, start + 1)
    return None


def _choice_from_option_text(s: str, pairs: list[tuple[str, str]]) -> str | None:
    low = s.lower()
    hits: list[tuple[str, int, int]] = []
    for letter, body in pairs:
        span = _word_bounded_find(low, body.lower())
        if span is not None:
            hits.append((letter, *span))
    # drop a hit whose span lies inside another (longer) hit's span: "chair" inside "armchair"
    kept = [
        h
        for h in hits
        if not any(o is not h and o[1] <= h[1] and h[2] <= o[2] and (o[2] - o[1]) > (h[2] - h[1]) for o in hits)
    ]
    letters = {h[0] for h in kept}
    return letters.pop() if len(letters) == 1 else None


def parse_choice(text: Any, options: Any = None) -> str | None:
    """The option letter an answer picks (upper case), or ``None`` (rules in the module docstring).

    Args:
        text: an answer string, usually ``extract_answer(completion)``.
        options: optional option strings like ``["A. sofa", "B. chair", ...]`` (enables matching by
            option text and restricts the fallback letters).

    Returns:
        ``"A"`` … ``"Z"`` or ``None``.

    >>> [parse_choice(t) for t in ["B", "b", "B.", "(B)", "B. sofa", "The answer is C", "Option: D"]]
    ['B', 'B', 'B', 'B', 'B', 'C', 'D']
    >>> parse_choice("A chair is closest"), parse_choice("chair", ["A. sofa", "B. chair"])
    (None, 'B')
    """
    s = _as_text(text).strip()
    if not s:
        return None
    pairs = _split_options(options)
    valid = {letter for letter, _ in pairs} or set(_LETTERS)

    # 1. the whole answer is one letter
    whole = _WHOLE_LETTER.fullmatch(s)
    if whole is not None:
        return whole.group(1).upper()

    # 2. explicit phrase; the last one wins
    last = None
    for m in _PHRASE.finditer(s):
        if not m.group(2) and _is_article(s, m.end(1), m.group(1)):
            continue
        last = m.group(1).upper()
    if last is not None:
        return last

    # 3. a leading letter with a delimiter
    lead = _LEADING.match(s)
    if lead is not None:
        letter = lead.group(1) or lead.group(2)
        if lead.group(1) or not _is_article(s, lead.end(2), letter):
            return letter

    # 4. option text
    if pairs:
        by_text = _choice_from_option_text(s, pairs)
        if by_text is not None:
            return by_text

    # 5. one distinct standalone capital letter among the valid letters
    found: set[str] = set()
    for m in _STANDALONE.finditer(s):
        letter = m.group(1)
        if letter in valid and not _is_article(s, m.end(1), letter):
            found.add(letter)
            if len(found) > 1:
                return None
    if len(found) == 1:
        return found.pop()
    return None
