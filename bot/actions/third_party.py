"""Someone other than the borrower: a relative or friend asking about the loan is never told
anything about it (Turn.require_auth refuses them)."""

from __future__ import annotations

import re

from actions.parsing import normalize

_KIN_ZH = "妈妈|母亲|爸爸|父亲|老婆|妻子|老公|丈夫|儿子|女儿|哥哥|姐姐|弟弟|妹妹|朋友"
_KIN_EN = "son|daughter|husband|wife|mother|father|mom|dad|brother|sister|friend"
_THIRD_PARTY_PATTERNS = (
    r"我是(?:他|她|它|借款人)的?(?:妈妈|母亲|妈|爸爸|父亲|爸|老婆|妻子|老公|丈夫|儿子|女儿|哥哥|姐姐|弟弟|妹妹|朋友"
    r"|同事|家人|亲戚|爷爷|奶奶|外婆|外公|领导|室友)",
    r"我是.{0,6}的(?:" + _KIN_ZH + r"|同事|家属|亲戚)",
    r"(?:替|帮)(?:我|他|她)?(?:儿子|女儿|老公|老婆|丈夫|妻子|妈妈|爸爸|朋友|家人|哥哥|姐姐|弟弟|妹妹)(?:问|查|还)",
    r"(?:不是我本人|我不是(?:借款人|本人|他|她))",
    r"\bi'?m (?:his|her|their|the borrower'?s) (?:mother|mom|mum|father|dad|wife|husband|son|daughter|brother"
    r"|sister|friend|partner|colleague|boss|relative|cousin)",
    r"\bi am (?:his|her|their|the borrower'?s) (?:mother|mom|mum|father|dad|wife|husband|son|daughter|brother"
    r"|sister|friend|partner|colleague|boss|relative|cousin)",
    r"\bon behalf of (?:my|his|her)\b",
    r"\b(?:asking|calling|writing) (?:for|about) my (?:" + _KIN_EN + r")\b",
    r"\bmy (?:" + _KIN_EN + r")'?s (?:loan|debt|account)\b",
    r"\bi'?m not the (?:borrower|account holder)\b",
)


def says_third_party(text: str | None) -> bool:
    """True when the speaker says they are someone other than the borrower."""
    if not text:
        return False
    low = normalize(text).lower()
    return any(re.search(p, low) for p in _THIRD_PARTY_PATTERNS)
