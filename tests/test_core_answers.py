"""Answer extraction: table-driven formats, lmms-eval parity where it is right, properties, linear time."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial_r1_eval.answers import extract_answer, parse_choice, parse_number

OPTIONS = ["A. sofa", "B. chair", "C. table", "D. armchair"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<think>It is 2 m</think><answer>3.5</answer>", "3.5"),
        ("<think>a</think>\n<answer>\n B \n</answer>\n", "B"),
        ("<answer>A</answer> wait, no: <answer>C</answer>", "C"),  # several tags: the last
        ("<think>..</think><answer>4</answer><answer>", "4"),  # empty unclosed tail: last complete pair
        ("<think>..</think><answer>A</answer> hmm <answer>B", "B"),  # unclosed last tag wins
        ("<think>truncated</think><answer> 12 meters", "12 meters"),
        ("<ANSWER>b</ANSWER>", "b"),  # tags are case-insensitive
        ("The area is \\boxed{22.5} square meters", "22.5"),
        ("\\boxed{1} then \\boxed{\\frac{3}{4}}", "\\frac{3}{4}"),  # last box, nested braces
        ("<answer>so \\boxed{7}</answer>", "7"),  # boxed inside the answer tag
        ("\\boxed{2} <answer>5</answer>", "5"),  # tag first, then boxed inside it
        ("\\boxed{unclosed", "\\boxed{unclosed"),
        ("<think>maybe 3</think> 4 chairs", "4 chairs"),  # no tags: after the last </think>
        ("plain answer", "plain answer"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_extract_answer(text, expected) -> None:
    assert extract_answer(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3.0),
        ("3.5 m", 3.5),
        ("3,5", 3.5),  # decimal comma
        ("3,5 meters", 3.5),
        ("1,200", 1200.0),  # thousands separator
        ("1,234,567.5", 1234567.5),
        ("12,34", 12.34),
        ("about 2 meters", 2.0),
        ("approximately 2.5m", 2.5),
        ("twenty-one", 21.0),
        ("Twenty one chairs", 21.0),
        ("one hundred and five", 105.0),
        ("three hundred and twenty-one", 321.0),
        ("two thousand five hundred", 2500.0),
        ("a hundred", 100.0),
        ("zero", 0.0),
        ("1e3", 1000.0),
        ("2.5E-2", 0.025),
        ("1.5e+2 cm", 150.0),
        (".5", 0.5),
        ("-3", -3.0),
        ("\u22124.5", -4.5),  # unicode minus
        ("+7", 7.0),
        ("room-2", 2.0),  # a hyphen after a word is not a sign
        ("a chair", None),  # trap: the article is not 1
        ("an apple and a pear", None),
        ("There is a table and 3 chairs", 3.0),  # 'a' is skipped, the digit counts
        ("3 or four", 3.0),  # a digit that appears first wins over a later word
        ("two chairs, not 3", 2.0),  # a word that appears first wins over a later digit
        ("one apple, room 2", 1.0),
        ("someone saw 4", 4.0),  # number words only as whole words
        ("often 5", 5.0),
        ("The answer is 3.", 3.0),
        ("1e999", math.inf),  # overflow: inf (NAR scores it 0.0)
        ("B", None),
        ("", None),
        (None, None),
        ("no number here", None),
    ],
)
def test_parse_number(text, expected) -> None:
    assert parse_number(text) == expected


def _int_to_words(n: int) -> str:
    """Independent int -> English words (the reverse direction of parse_number)."""
    units = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()  # noqa: E501
    tens = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()

    def below_1000(k: int) -> str:
        parts = []
        if k >= 100:
            parts.append(units[k // 100] + " hundred")
            k %= 100
            if k:
                parts.append("and")
        if k >= 20:
            parts.append(tens[k // 10] + ("-" + units[k % 10] if k % 10 else ""))
        elif k or not parts:
            parts.append(units[k])
        return " ".join(parts)

    if n < 1000:
        return below_1000(n)
    head, rest = divmod(n, 1000)
    return below_1000(head) + " thousand" + (" " + below_1000(rest) if rest else "")


def test_parse_number_number_words_roundtrip() -> None:
    rng = np.random.default_rng(3)
    values = list(range(0, 130)) + rng.integers(130, 999_999, 400).tolist()
    for v in values:
        words = _int_to_words(int(v))
        assert parse_number(words) == float(v), words
        assert parse_number(f"I count {words} objects, maybe 7") == float(v), words


def test_parse_number_formatted_values_roundtrip() -> None:
    rng = np.random.default_rng(4)
    for v in np.round(rng.uniform(0, 100_000, 2_000), 2):
        v = float(v)
        assert parse_number(f"{v}") == v
        assert parse_number(f"It is about {v} meters.") == v
        assert parse_number(f"{v:,}") == v  # thousands separators
        assert parse_number(f"{v:e}") == float(f"{v:e}")
        if v >= 1:
            assert parse_number(f"{v:.1f} m".replace(".", ",")) == round(v, 1)  # decimal comma


def test_parse_number_agrees_with_lmms_eval_where_lmms_is_right() -> None:
    vsb = pytest.importorskip("lmms_eval.tasks.vsibench.utils", reason="lmms-eval (the reference) is not installed")
    texts = [
        "3",
        "3.0",
        "There are 3 boxes",
        "three",
        "Three boxes.",
        "twenty-one",
        "three hundred and twenty-one",
        "one apple, room 2",
        "2 apples and three pears",
        "-4.25",
        "The distance is 1.7 meters",
        "none",
    ]
    rng = np.random.default_rng(5)
    texts += [f"about {x} m" for x in np.round(rng.uniform(0, 500, 300), 1)]
    texts += [_int_to_words(int(k)) + " chairs" for k in rng.integers(0, 999, 300)]
    for text in texts:
        assert parse_number(text) == vsb.extract_number(text), text


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        ("B", None, "B"),
        ("b", None, "B"),
        ("B.", None, "B"),  # "B." scores like "B"
        ("(B)", None, "B"),
        ("B)", None, "B"),
        ("B:", None, "B"),
        ("The answer is (B)", None, "B"),
        ("The answer is (B).", None, "B"),
        ("The answer is B", None, "B"),
        ("the answer is c.", None, "C"),
        ("Answer: D", None, "D"),
        ("The correct option is C", None, "C"),
        ("The answer is: **C**", None, "C"),
        ("Option B is wrong, the answer is A.", None, "A"),  # last explicit phrase wins
        ("Among the choices, B", None, "B"),  # 'choices' is not 'choice s'
        ("Looking at the options: C", OPTIONS, "C"),
        ("answer:B", None, "B"),
        ("B. sofa", None, "B"),
        ("(C) table", None, "C"),
        ("B sofa", None, "B"),
        ("A. sofa", None, "A"),
        ("A is correct", None, "A"),  # 'A' + copula: the letter
        ("A", OPTIONS, "A"),
        ("a", None, "A"),  # a lone lowercase letter is a letter
        ("chair", OPTIONS, "B"),  # option text instead of the letter
        ("The chair.", OPTIONS, "B"),
        ("It is the armchair", OPTIONS, "D"),  # 'chair' inside 'armchair' is dropped
        ("A chair is closest", OPTIONS, "B"),  # trap: the article is not option A
        ("A chair is closest", None, None),  # ... and without options it is no answer
        ("the answer is a chair", None, None),
        ("the answer is a chair", OPTIONS, "B"),
        ("I think B is right", None, "B"),  # the pronoun 'I' is not a letter
        ("I think B is right", OPTIONS, "B"),
        ("sofa or table", OPTIONS, None),  # ambiguous option text
        ("It could be B or C", None, None),  # ambiguous letters
        ("E", OPTIONS, "E"),  # out-of-range letters are still the model's pick (it scores 0)
        ("Nothing fits", OPTIONS, None),
        ("", OPTIONS, None),
        (None, None, None),
        ("B", "not a list", "B"),  # malformed options are ignored
    ],
)
def test_parse_choice(text, options, expected) -> None:
    assert parse_choice(text, options) == expected


def test_parse_choice_agrees_with_lmms_fuzzy_matching_on_its_formats() -> None:
    """lmms-eval scores MCA with exact_match(fuzzy_matching(pred), gt); on its own formats we agree."""
    vsb = pytest.importorskip("lmms_eval.tasks.vsibench.utils", reason="lmms-eval (the reference) is not installed")
    rng = np.random.default_rng(6)
    words = ["sofa", "chair", "the table", "left of the bed", "B", "near"]
    for _ in range(2_000):
        letter = "ABCD"[rng.integers(0, 4)]
        gt = "ABCD"[rng.integers(0, 4)]
        fmt = rng.integers(0, 4)
        pred = [letter, letter + ".", letter + ". " + words[rng.integers(0, len(words))], letter.lower()][fmt]
        expected = vsb.exact_match(vsb.fuzzy_matching(pred), gt)
        got = 1.0 if (parse_choice(pred) or "").lower() == gt.lower() else 0.0
        assert got == expected, (pred, gt)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300), st.one_of(st.none(), st.lists(st.text(max_size=20), max_size=6)))
def test_no_input_string_raises(text: str, options) -> None:
    assert isinstance(extract_answer(text), str)
    value = parse_number(text)
    assert value is None or isinstance(value, float)
    choice = parse_choice(text, options)
    assert choice is None or (len(choice) == 1 and choice.isupper())


_PIECES = st.sampled_from(
    [
        "<answer>",
        "</answer>",
        "<think>",
        "</think>",
        "\\boxed{",
        "{",
        "}",
        " ",
        "1",
        ",",
        ".",
        "e",
        "-",
        "one",
        "hundred",
        "and",
        "a",
        "A",
        "B",
        "(",
        ")",
        "answer is",
        "option",
        "twenty",
    ]  # fmt: skip
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=25).map("".join))
def test_no_tricky_token_soup_raises(text: str) -> None:
    extract_answer(text)
    parse_number(text)
    parse_choice(text, OPTIONS)
    parse_choice(extract_answer(text))


ADVERSARIAL = {
    "digits": lambda n: "9" * n,
    "thousands": lambda n: "1,000" * (n // 5),
    "decimal_commas": lambda n: "1," * (n // 2),
    "exponent": lambda n: "1e" + "9" * n,
    "answer_tags": lambda n: "<answer>" * (n // 8),
    "close_tags": lambda n: "</answer>" * (n // 9),
    "think_tags": lambda n: "</think>" * (n // 8),
    "boxed": lambda n: "\\boxed{" * (n // 7),
    "braces": lambda n: "{" * (n // 2) + "}" * (n // 2),
    "phrases": lambda n: "answer is " * (n // 10),
    "articles": lambda n: "A " * (n // 2),
    "letters": lambda n: "B C " * (n // 4),
    "number_words": lambda n: "one " * (n // 4),
    "signs": lambda n: "-" * n,
    "option_text": lambda n: "sof" * (n // 3),
}


def _runtime(text: str) -> float:
    best = math.inf
    for _ in range(2):
        start = time.perf_counter()
        extract_answer(text)
        parse_number(text)
        parse_choice(text, OPTIONS)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_parsing_scales_linearly_on_adversarial_inputs(name: str) -> None:
    """1 MB vs 100 kB: linear code takes ~10x; catastrophic backtracking would take >= 100x.

    A scaling ratio (not absolute time) with a generous bound, best of two runs, so it is robust to load.
    """
    small = _runtime(ADVERSARIAL[name](100_000))
    large = _runtime(ADVERSARIAL[name](1_000_000))
    assert large / max(small, 1e-4) < 40, f"{name}: {small:.4f}s -> {large:.4f}s"
