"""Words that take back a dispute or complaint filed by mistake ("撤回", "点错了", "cancel that
complaint", "I didn't mean to open a dispute"), and the names the withdrawal shares: pure, so
that the action base can honour them whatever intent the message was read as
(actions/corrections.py does the withdrawing)."""

from __future__ import annotations

import re

from actions.parsing import normalize, to_simplified

WITHDRAW_CHOICE = "withdraw"
WITHDRAW_PAYLOAD = '/deny{"choice":"' + WITHDRAW_CHOICE + '"}'
LAST_RECORD = "last_record"
KINDS = ("dispute", "complaint")

_RECORD_ZH = r"(?:投诉|异议|争议|申诉|工单)"
_THAT_ZH = r"(?:这个|那个|刚才的?|刚刚的?|我的|这条|那条|这次的?|它)?"
_WITHDRAW_ZH = re.compile(
    r"撤回|"
    r"(?:撤销|撤掉|收回|取消|不要|删掉|删除|作废)了?"
    + _THAT_ZH
    + _RECORD_ZH
    + r"|"
    + _RECORD_ZH
    + r"(?:就|先)?(?:撤了|撤销|撤掉|不要了|不用了|取消|算了|作废)|"
    r"把" + _THAT_ZH + _RECORD_ZH + r"?(?:撤|取消)|"
    r"(?:点|按)错|误(?:点|按|操作|提交|投诉|触)|不小心(?:点|按|提交?|投诉|发)|我(?:弄|搞|提|填)错了|"
    r"不是(?:要|想)(?:投诉|提异议|申诉|提出异议|争议)|没(?:想|打算)要?(?:投诉|提异议|申诉)"
)
_RECORD_EN = r"(?:complaint|dispute|case|claim)"
_FILED_EN = r"(?:filed|opened|sent|made|submitted|pressed|clicked|tapped|hit|raised|lodged|started)"
_WITHDRAW_EN = re.compile(
    r"\bwithdraw\b|\bretract\b|\btake (?:it|that|this|the \w+|my \w+) back|\bundo\b|"
    r"\bcancel(?:l?ed)? (?:that|this|the|my)? ?" + _RECORD_EN + r"|"
    r"\b(?:didn'?t|did not|never) (?:mean|want|intend) to "
    r"(?:open|file|make|raise|send|submit|lodge|start|complain|dispute)|"
    r"\b" + _FILED_EN + r"\b[^.!?]{0,30}\bby (?:mistake|accident)\b|^(?:that|it|this) was (?:a mistake|an accident)\b|"
    r"\baccidentally " + _FILED_EN + r"|\bwrong button\b|\bmisclick|\bdon'?t want (?:the|that|a|this|my) " + _RECORD_EN
)


def says_withdraw(text: str) -> bool:
    """True when the message asks to take back a dispute or complaint ("撤回", "I filed that by
    mistake", "cancel my complaint"); a new dispute or complaint never matches."""
    if not isinstance(text, str) or not text.strip() or text.startswith("/"):
        return False
    s = to_simplified(normalize(text))
    return bool(_WITHDRAW_ZH.search(s) or _WITHDRAW_EN.search(s.lower()))
