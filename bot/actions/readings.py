"""What a message says besides its intent: pure readings that tell a consequential act (a dispute,
a complaint, a change of contact, a hand-off to a person) from another meaning, and a question
about consequences from other questions.

The NLU model gives one intent with a confidence; these readings look at the words. They are used
by actions/confirm.py (is the act clearly meant, or is it something else?) and by the features
that answer consequences, refusals and questions with no answer. Every function is pure, takes
any text (Traditional characters and full-width forms are folded by parsing.normalize) and
never raises.
"""

from __future__ import annotations

import re

from actions.parsing import normalize

# Words that name each act. A message classified as the act without one of them is not taken as
# the act without asking (actions/confirm.py).
_ACT_WORDS = {
    "dispute": (
        r"不是我的?|不是我借|没借|没有借|没(?:有)?贷|没申请|没签|不认|不对|不符|错了|错误|算错|搞错|弄错|有误|多收|多扣|多算|"
        r"乱收|虚假|盗用|冒用|冒名|被盗|诈骗|骗局|欺诈|异议|争议|申诉|质疑|核实一下金额|金额.{0,4}(?:对不上|不一样)|"
        r"有问题|有错|没算|找错人|跟我没关系|与我无关|不承认|不欠|没(?:有)?在你们这|不是本人|用我的(?:信息|身份)|根本没|明明还|"
        r"怎么变成|不是[0-9一二三四五六七八九十两]|"
        r"not (?:my|mine)|isn'?t (?:my|mine)|wasn'?t me|never (?:borrowed|took|had|applied|signed)|"
        r"didn'?t (?:borrow|take|apply|sign)|don'?t (?:owe|recogni[sz]e)|wrong|incorrect|mistake|error|inaccurate|"
        r"overcharg|dispute|contest|object to|fraud|scam|stole|stolen|identity theft|someone (?:else|used)|"
        r"without my consent|doesn'?t (?:match|add up)|don'?t add up|weren'?t counted|wasn'?t counted|mixed me up|"
        r"not \d|not (?:right|correct)|never given|doesn'?t belong|in my name"
    ),
    "complaint": (
        r"投诉|举报|告你们|曝光|315|银保监|金融监管|监管|消协|骚扰|威胁|辱骂|骂我|恐吓|态度(?:差|恶劣|很差|不好)|"
        r"泄露|爆通讯录|不满|太过分|不像话|无法接受|违法|太差|差劲|垃圾|太烂|破公司|恶劣|难听|侮辱|吓|暴力催收|冒充|"
        r"侵犯|隐私|不尊重|没人管|有意见|有病|态度|头诉|骂人|"
        r"terrible|awful|joke|worst|disgust|respect|furious|outrageous|ridiculous|intimidat|pretend|shameful|"
        r"how dare|authorities|consumer protection|nobody (?:helped|fixed|answer)|complian|complant|complain|"
        r"complaint|report you|regulator|harass|threat|"
        r"insult|abus|rude|swore|swear|yell|shout|leak|unacceptable|disgrac|terrible service|awful|unhappy with|"
        r"not happy with|illegal|unprofessional|bully"
    ),
    "stop_contact": (
        r"别再?(?:联系|打|发|找)|不要再?(?:联系|打|发|找)|停止|不想再?接|别烦|烦死|骚扰|拉黑|取消.{0,4}(?:提醒|通知|联系)|"
        r"短信|电话|微信|邮件|推送|联系我|打给我|退订|\btd\b|删|移除|名单|消息|信息|讯息|练习我|不想再收到|"
        r"stop|don'?t (?:contact|call|text|message|email|phone|ring)|no (?:more )?(?:calls|texts|messages|emails)|"
        r"leave me alone|unsub|opt out|do not (?:contact|call)|quit (?:calling|texting|messaging)|remove me|cease|"
        r"take my number|reach (?:out to )?me|no more|don'?t send|don'?t want (?:any|to receive)|only contact me|"
        r"instead|rather than|而不是|改用|换成|\btext|\bcall|\bsms\b|wechat|e-?mail|\bphone|notification"
    ),
    "handoff": (
        r"人工|真人|客服|专员|工作人员|经理|主管|坐席|活人|人来|找(?:个)?人|跟人|和人|人工服务|不想跟机器人|"
        r"person|human|agent|someone|somebody|representative|staff|operator|manager|supervisor|"
        r"real people|real one|advisor|adviser|colleague|customer service|负责人|领导|做主|换人|催收员|人攻|"
        r"collector|support|specialist|humna|transfer me"
    ),
}
_ACT_PATTERNS = {name: re.compile(pattern) for name, pattern in _ACT_WORDS.items()}

# The act said and refused in the same breath: "不要转人工", "no, I don't want a person".
_NEGATED = {
    "handoff": (
        r"(?:不要|不用|不需要|不想|别|无需|没必要|不必)(?:转接?|找|帮我转|给我转|接)?(?:人工|真人|客服)|"
        r"(?:不要|不用|不需要|不想|别|无需)(?:转|找|接)人|"
        r"(?:don'?t|do not|doesn'?t) (?:want|need)(?: to (?:talk|speak) (?:to|with))? (?:a |an |any |the )?"
        r"(?:person|human|agent|people|real person|operator|representative|staff)|"
        r"no need (?:for|to (?:talk|speak) to) (?:a |an |any )?(?:person|human|agent|operator|representative)|"
        r"no (?:person|human|agent|operator)s?\b|not (?:a |an )?(?:person|human|agent)|"
        r"without (?:a |an )?(?:person|agent)|"
        r"(?:don'?t|do not) (?:transfer|pass|hand) me"
    ),
    "complaint": (
        r"(?:不|不想|不要|不用|不是要|没想|没打算|不打算)(?:去)?投诉|不举报|"
        r"(?:not|don'?t want to|won'?t|no need to|not going to) (?:file a )?complain|no complaint|not a complaint"
    ),
    "dispute": (
        r"(?:不|不想|不要|没想|不打算)(?:提)?(?:异议|争议|申诉)|没有异议|没异议|不是说(?:错|不对)|"
        r"(?:not|don'?t want to|won'?t) (?:dispute|contest)|no dispute|not disputing"
    ),
    "stop_contact": r"(?:可以|继续|照常)联系我|keep (?:contacting|calling|texting) me|you can (?:still )?contact me",
}
_NEGATED_PATTERNS = {name: re.compile(pattern) for name, pattern in _NEGATED.items()}

_WAITING = re.compile(
    r"等(?:你们|您|你)?的?(?:消息|通知|回复|答复|回音|电话|结果)|等着?(?:吧|呗)|我等|等一下|等等看|"
    r"(?:i'?ll|i will|i can|i'?m going to|will) wait|waiting (?:for|to hear)|wait (?:for|to hear)|"
    r"hear (?:back )?from you|look(?:ing)? forward to|let me know|keep me (?:posted|updated)"
)
_NONE = re.compile(
    r"算了|都不用|都不需要|一个都不|哪个都不|都不是|没事了|不改了|"
    r"never ?mind|nevermind|forget (?:it|about it)|none of (?:them|these|those|the above)|neither|no thanks|"
    r"nothing,? thanks|leave it"
)
_QUESTION = re.compile(
    r"[?？]|吗\s*$|吗[,，。.]|么\s*$|怎么|如何|能不能|可不可以|可以.{0,6}吗|是否|哪|谁|"
    r"^(?:how|can|could|should|do|does|is|are|what|when|where|who|which|why|will|would|may)\b"
)

# What non-payment leads to: credit record, legal steps, collection contact, penalties.
_CONSEQUENCE_SPECIFIC = re.compile(
    r"征信|信用|黑名单|拉黑|失信|起诉|告我|法庭|法院|法律|律师|坐牢|被抓|抓我|警察|冻结|上门|家人|通讯录|单位|我(?:的)?公司|"
    r"限制高消费|高铁|飞机|以后.{0,4}(?:贷款|借钱)|逾期记录|记录.{0,4}(?:保留|消除|恢复)|买房|信用卡|"
    r"credit|blacklist|\bsue\b|sued|court|legal|lawyer|law ?suit|jail|prison|police|arrest|frozen|freeze|garnish|"
    r"外包|家里人|父母|打给我|bureau|record|reported|loans later|show up|door|mortgage|borrow later|future loans|"
    r"collection agency|banned|family|relatives|employer|"
    r"my (?:job|work|house|home|boss|wife|husband|friends|references)|property|come to my|send someone"
)
_CONSEQUENCE_GENERAL = re.compile(
    r"后果|影响|会怎(?:么)?样|会有什么|严重吗|不还(?:会|的话|钱)|一直不还|拖着|还不上(?:会|的话)|"
    r"consequence|affect|hurt|ruin|damage|what happens (?:if|after|when)|what if|what will (?:happen|you do)|"
    r"worst|trouble|how bad|ignore it|(?:don'?t|do not|can'?t|cannot|never|stop) pay|miss(?:ing)? (?:a |this )?"
    r"(?:payment|month)|pay late|late payment|being late"
)
_DISPUTE_TOPIC = re.compile(r"异议|争议|申诉|投诉|案件|dispute|complaint|case\b")

# The plans on screen do not fit: "I don't have that much in one go", "both options are too much".
_CANNOT_AFFORD = re.compile(
    r"拿不出|付不起|还不起|负担不(?:了|起)|承担不(?:了|起)|太多了?|太高了?|太贵|不够|凑不(?:出|齐|够)|没那么多|没有那么多|"
    r"都不行|都不合适|都不适合|都还不了|哪个都还不|吃不消|压力太大|"
    r"can'?t afford|cannot afford|unable to afford|too (?:much|high|expensive|big|steep)|"
    r"(?:don'?t|do not) have (?:that|this|so) much|not enough|more than i (?:can|have|earn)|"
    r"none of (?:them|these|those) (?:work|fit|suit)|neither (?:works|fits)|out of my reach|way over my budget"
)

# Someone else borrowed in the borrower's name.
_IDENTITY_THEFT = re.compile(
    r"盗用|冒用|冒名|被盗|盗刷|身份(?:证)?(?:被|让人)|别人用我的|有人用我的|不是我(?:本人)?(?:借|申请|签)|诈骗|"
    r"identity theft|stole my (?:identity|id|details)|stolen (?:identity|id)|"
    r"someone (?:else )?(?:used|took out|opened)|not me who|wasn'?t me|i never (?:applied|borrowed|took)|fraud"
)

# A question about what is owed: "我现在欠多少", "how much do I owe".
_ASKS_STATUS = re.compile(
    r"欠(?:了|你们)?多少|还差多少|要还多少|应还多少|该还多少|一共(?:要还|欠)?多少|总共(?:要还|欠)?多少|还剩多少|"
    r"how much (?:do |did |would )?i (?:still )?owe|what do i owe|what(?:'s| is) my balance|"
    r"how much (?:is|do i have) (?:overdue|due|left|outstanding)"
)

# Not able to pay (hardship), never a payment made nor a promise: "我还不上了", "I can't pay this month".
_CANNOT_PAY = re.compile(
    r"还不上|还不了|还不起|没钱还|没有钱还|付不起|付不了|交不起|交不上|没法还|没办法还|无法还|无力还|没能力还|"
    r"can'?t (?:pay|make (?:the|this|my|a) payment|keep up)|cannot (?:pay|make (?:the|this|my|a) payment)|"
    r"unable to (?:pay|make)|won'?t be able to (?:pay|make)|not able to pay|"
    r"(?:don'?t|do not) have (?:the )?money to pay"
)
# A payment already made: "I paid 200 yesterday", "上周已经转了1000".
_PAID = re.compile(
    r"已经(?:还|转|付|打|交)|已还|还过了|(?:转|付|打|交|汇)(?:了|过)(?:款|钱)?|"
    r"还了(?:\d|[一二三四五六七八九十两几]|钱|款)|\b(?:already|just) paid|\bi(?:'ve| have)? paid|"
    r"\bi (?:already |just )?(?:transferred|sent|wired|made (?:the|a|my) payment)|"
    r"paid (?:it|this|that|yesterday|last|on)\b"
)

# Questions the assistant has no answer for: where the office is, certificates and documents,
# who exactly will call.
_NO_ANSWER = re.compile(
    r"地址|办公地点|总部|在哪(?:里|儿)?办公|营业厅|网点|证明|凭证|发票|收据|合同(?:原件|副本|复印件)|盖章|"
    r"谁(?:会)?(?:给我)?打(?:电话)?|哪个人|哪位|什么人(?:会)?(?:联系|打)|工号|名字叫什么|"
    r"address|(?:your|the|company'?s?) (?:office|headquarters|branch)|where are you (?:located|based)|certificate|"
    r"letter (?:of|confirming)|proof of|statement letter|"
    r"receipt|invoice|copy of (?:my|the) contract|stamped|who (?:will|is going to|would) (?:call|contact|ring|phone)|"
    r"who(?:'s| is) (?:calling|handling|in charge)|name of the (?:person|agent)|staff (?:id|number)"
)


def _text(text: str | None) -> str:
    return normalize(text or "").lower()


def names_act(act: str, text: str | None) -> bool:
    """True when the message has a word that names the act ("不是我借的", "complaint", "转人工")."""
    pattern = _ACT_PATTERNS.get(act)
    return bool(pattern and pattern.search(_text(text)))


def negates_act(act: str, text: str | None) -> bool:
    """True when the act is refused in the message itself: "不要转人工", "no, I don't want a person",
    "我不是要投诉"."""
    pattern = _NEGATED_PATTERNS.get(act)
    return bool(pattern and pattern.search(_text(text)))


def says_waiting(text: str | None) -> bool:
    """An acknowledgement that waits for the lender: "OK, I'll wait for your news", "好的我等你们消息"."""
    return bool(_WAITING.search(_text(text)))


def says_none(text: str | None) -> bool:
    """The question the assistant asked is dropped: "never mind, none of them", "算了，都不用"."""
    return bool(_NONE.search(_text(text)))


def is_question(text: str | None) -> bool:
    """A question ("怎么投诉？", "can I dispute this?") rather than a statement or a request."""
    return bool(_QUESTION.search(_text(text)))


def asks_about_consequences(text: str | None) -> bool:
    """A question about what non-payment leads to (credit record, legal steps, collection). A
    question about an open dispute or complaint ("what happens with my dispute") is not one unless
    it names a consequence ("will my dispute stop the credit report?")."""
    low = _text(text)
    if _CONSEQUENCE_SPECIFIC.search(low):
        return True
    return bool(_CONSEQUENCE_GENERAL.search(low)) and not _DISPUTE_TOPIC.search(low)


def mentions_dispute(text: str | None) -> bool:
    """The message is about a dispute, complaint or case ("我的异议怎么样了")."""
    return bool(_DISPUTE_TOPIC.search(_text(text)))


def says_cannot_afford(text: str | None) -> bool:
    """The plans on offer do not fit: "我一次拿不出那么多", "both options are too much"."""
    return bool(_CANNOT_AFFORD.search(_text(text)))


def says_identity_theft(text: str | None) -> bool:
    """The loan was taken out by someone else in the borrower's name ("有人盗用了我的身份")."""
    return bool(_IDENTITY_THEFT.search(_text(text)))


def asks_status(text: str | None) -> bool:
    """A question about what is owed ("我现在欠多少", "how much do I owe?")."""
    return bool(_ASKS_STATUS.search(_text(text)))


def says_cannot_pay(text: str | None) -> bool:
    """The borrower says they cannot pay ("我还不上了", "I can't pay this month"): hardship."""
    return bool(_CANNOT_PAY.search(_text(text)))


def says_paid(text: str | None) -> bool:
    """The borrower says a payment was made ("I paid 200 yesterday", "我上周已经转了1000")."""
    return bool(_PAID.search(_text(text)))


def asks_what_has_no_answer(text: str | None) -> bool:
    """A question the assistant cannot answer: an address, a certificate or document, who
    exactly will call."""
    return bool(_NO_ANSWER.search(_text(text)))
