"""Is the speaker someone other than the borrower? A relative, partner, friend, colleague,
employer, lawyer or anyone asking about another person's loan is never told anything about it
(the policy: nothing, for the rest of the conversation, whatever details they give).

``says_third_party(text)`` is a classifier trained from ``bot/third_party/train.yml`` plus the
ordinary borrower messages of ``bot/data/nlu`` (the other class) the first time it is used; the
action server trains it before it listens (``warm_up``), so no message waits for it and there is
no model file to keep in step with the data (about 0.4 s of CPU). TF-IDF over character 1-4-grams
and word 1-3-grams, logistic regression (scikit-learn, the version Rasa brings into the bot
environment), over the text as ``Lexicon.features_text`` normalises it. Measured on
``bot/nlu_eval/third_party_heldout.yml`` by ``nlu_eval/evaluate.py`` and
``tests/bot/test_third_party_classifier.py``; the choices are explained in nlu_eval/README.md.

``Turn.hold_third_party`` (actions/turn.py) applies it to every user message.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actions.parsing import normalize

logger = logging.getLogger(__name__)

BOT_DIR = Path(__file__).resolve().parents[1]
TRAIN_FILE = BOT_DIR / "third_party" / "train.yml"
NLU_DIR = BOT_DIR / "data" / "nlu"
LANGUAGES = ("zh", "en")
# Probability of "not the borrower" from which a message is refused (see nlu_eval/README.md).
THRESHOLD = 0.5
# Examples each frame of train.yml gives (the relation, pronoun and name rotate).
EXAMPLES_PER_FRAME = 3
RELATION, PRONOUN, SUBJECT, OWN_PRONOUN = "K", "P", "H", "Q"  # upper case: never in the lower-cased text
# chat spellings of English words ("calling 4 my mum", "can u check"); 4 and 2 only before a word
_CHAT_WORDS = {"u": "you", "ur": "your", "r": "are", "pls": "please", "plz": "please", "abt": "about"}
_CHAT_WORDS |= {"bc": "because", "cuz": "because", "coz": "because", "im": "i'm", "ive": "i've", "4": "for", "2": "to"}
_CHAT_WORD = re.compile(r"(?<![\w'])(?:u|ur|r|pls|plz|abt|bc|cuz|coz|im|ive|[42](?= [a-z]))(?![\w'])")
NAME = "N"
# a Chinese name: a common surname and one or two characters ("饭店的老板" is no name)
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤欧"
)
_ZH_NAME_OF = re.compile(r"(?<=是)[" + _SURNAMES + r"][\u4e00-\u9fff]{1,2}?(?=的?K)")
_EN_NAME_OF = re.compile(r"(i'm |i am )(?!my |his |her )[a-z]+(?: [a-z]+)?'s (?=K)")
_OWN_RELATION = re.compile(r"(?:(?<![a-z])my |我)K")
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[a-z]+")
MIN_TYPO_LENGTH = 6  # shorter relations ("niece", "wife") have real words one letter away ("piece", "life")
# words of the word n-grams: a Latin word, one Chinese character, or a token
_WORD = r"[a-z0-9']+|[KPHQN]|[\u3400-\u9fff]"


class Lexicon:
    """What the model reads instead of the words: every relation of train.yml is one token, so
    are he/she/him/his/her and 他/她 (not 他们, not 其他)."""

    def __init__(self, relations: list[str], known_words: set[str] | frozenset[str] = frozenset()):
        words = sorted({normalize(r).lower() for r in relations if r}, key=len, reverse=True)
        zh = [w for w in words if _CJK.search(w)]
        en = [w for w in words if not _CJK.search(w)]
        self._zh = re.compile("|".join(map(re.escape, zh))) if zh else None
        # "mums account" (no apostrophe) reads as "K's account"
        self._en = re.compile(r"(?<![a-z])(?:" + "|".join(map(re.escape, en)) + r")('?s)?(?![a-z])") if en else None
        # a relation misspelt by one letter ("brohter", "mther"), unless the misspelling is a word
        # borrowers use ("other", "rather", "bother")
        self._typos = {
            typo
            for word in en
            if len(word) >= MIN_TYPO_LENGTH and word.isalpha()
            for typo in one_edit(word)
            if typo not in known_words
        }

    def features_text(self, text: str) -> str:
        """Normalised (NFKC, Simplified), lower case, digits as 0, relations and pronouns as tokens."""
        t = _CHAT_WORD.sub(lambda m: _CHAT_WORDS[m.group(0)], normalize(text).lower())
        t = re.sub(r"\s+", " ", re.sub(r"\d", "0", t)).strip()
        t = re.sub(r"其[他她]", "其余", t)
        t = re.sub(r"[他她]们", "人们", t)
        if self._zh:
            t = self._zh.sub(RELATION, t)
        if self._en:
            t = self._en.sub(lambda m: RELATION + ("'s" if m.group(1) else ""), t)
        if self._typos:
            t = _LATIN_WORD.sub(lambda m: RELATION if m.group(0) in self._typos else m.group(0), t)
        # the borrower's name in "我是王芳的妈妈" / "I'm Emily Chen's husband": one token, so that
        # a name nobody trained on weighs nothing
        t = _ZH_NAME_OF.sub(NAME, t)
        t = _EN_NAME_OF.sub(r"\1" + NAME + "'s ", t)
        # a pronoun after "my <relation>" is that relation ("my wife ... her card"): its own token,
        # apart from the pronouns that point at someone never named ("I'm his wife")
        own = _OWN_RELATION.search(t)
        head, tail = (t[: own.end()], t[own.end() :]) if own else (t, "")
        head = _pronouns(head, PRONOUN, SUBJECT)
        tail = _pronouns(tail, OWN_PRONOUN, OWN_PRONOUN)
        t = head + tail
        # no spaces next to Chinese characters or tokens: "我 husband 帮我" reads as "我K帮我"
        return re.sub(r"\s*([\u3400-\u9fffKPHQN])\s*", r"\1", t) if _CJK.search(t) else t


def one_edit(word: str) -> set[str]:
    """The strings one deletion, transposition, substitution or insertion away from `word`."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in letters}
    edits |= {a + c + b for a, b in splits for c in letters}
    return edits - {word}


def _pronouns(text: str, possessive: str, subject: str) -> str:
    text = re.sub(r"[他她]", possessive, text)
    text = re.sub(r"(?<![a-z])(?:he|she)(?![a-z])", subject, text)
    return re.sub(r"(?<![a-z])(?:his|her|him)(?![a-z])", possessive, text)


def _lines(block: str | None) -> list[str]:
    """The texts of a "- text" block."""
    return [line.strip()[2:].strip() for line in (block or "").splitlines() if line.strip().startswith("- ")]


def expand_frames(frames: list[str], section: dict[str, Any], per_frame: int = EXAMPLES_PER_FRAME) -> list[str]:
    """A few examples per frame: {k} a relation, {p} a pronoun (his/her), {s} a subject pronoun
    (he/she), {n} a name, each rotating through its list."""
    kin = section.get("kin") or [""]
    pronouns = section.get("pronouns") or [""]
    subjects = section.get("subjects") or pronouns
    names = section.get("names") or [""]
    examples = []
    for f, frame in enumerate(frames):
        for i in range(per_frame if "{k}" in frame else 1):
            j = f * per_frame + i
            examples.append(
                frame.format(
                    k=kin[j % len(kin)],
                    p=pronouns[j % len(pronouns)],
                    s=subjects[j % len(subjects)],
                    n=names[j % len(names)],
                )
            )
    return examples


def _load_yaml(path: Path) -> Any:
    """A YAML file read with a safe loader: libyaml's when present (the NLU files load 4x faster)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader, see above


def nlu_examples(nlu_dir: Path = NLU_DIR) -> list[str]:
    """Every example of the Rasa NLU training data (both languages)."""
    texts = []
    for path in sorted(nlu_dir.glob("*/*.yml")):
        for block in _load_yaml(path).get("nlu") or []:
            texts.extend(_lines(block.get("examples")))
    return texts


@dataclass(frozen=True)
class TrainingData:
    third_party: list[str]
    borrower: list[str]
    relations: list[str]

    def borrower_words(self) -> set[str]:
        """The English words of the borrower examples: real words, never read as misspellings."""
        return {w for t in self.borrower for w in _LATIN_WORD.findall(normalize(t).lower())}


def load_training_data(path: Path = TRAIN_FILE, nlu_dir: Path = NLU_DIR) -> TrainingData:
    data = _load_yaml(path)
    third_party: list[str] = []
    borrower: list[str] = []
    relations: list[str] = []
    relabelled: set[str] = set()
    for lang in LANGUAGES:
        section = data[lang]
        relations += section.get("kin") or []
        third_party += expand_frames(_lines(section.get("third_party_frames")), section)
        third_party += _lines(section.get("third_party"))
        borrower += expand_frames(_lines(section.get("borrower_frames")), section)
        borrower += _lines(section.get("borrower"))
        nlu_third_party = _lines(section.get("nlu_third_party"))
        third_party += nlu_third_party
        relabelled |= {normalize(t).lower() for t in nlu_third_party}
    borrower += [t for t in nlu_examples(nlu_dir) if normalize(t).lower() not in relabelled]
    return TrainingData(third_party, borrower, relations)


class ThirdPartyClassifier:
    """TF-IDF over character and word n-grams + logistic regression; ``probability(text)`` of
    "not the borrower"."""

    def __init__(self, data: TrainingData, threshold: float = THRESHOLD):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion

        self.lexicon = Lexicon(data.relations, data.borrower_words())
        examples = {(self.lexicon.features_text(t), 1) for t in data.third_party}
        examples |= {(self.lexicon.features_text(t), 0) for t in data.borrower}
        texts, labels = zip(*sorted(examples), strict=True)
        self.vectorizer = FeatureUnion(
            [
                ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 4), lowercase=False, sublinear_tf=True)),
                ("words", TfidfVectorizer(ngram_range=(1, 3), token_pattern=_WORD, lowercase=False, sublinear_tf=True)),
            ]
        )
        self.model = LogisticRegression(C=30.0, solver="liblinear", class_weight="balanced")
        self.model.fit(self.vectorizer.fit_transform(texts), labels)
        self.threshold = threshold

    def probability(self, text: str) -> float:
        features = self.vectorizer.transform([self.lexicon.features_text(text)])
        return float(self.model.predict_proba(features)[0][1])

    def says_third_party(self, text: str) -> bool:
        return self.probability(text) >= self.threshold


_lock = threading.Lock()
_classifier: ThirdPartyClassifier | None = None


def classifier() -> ThirdPartyClassifier:
    """The classifier, trained on first use (once per process)."""
    global _classifier
    with _lock:
        if _classifier is None:
            started = time.perf_counter()
            import sklearn.linear_model  # noqa: F401 - imported here to time it apart from training

            imported = time.perf_counter()
            data = load_training_data()
            _classifier = ThirdPartyClassifier(data)
            logger.info(
                "third-party classifier trained on %d examples in %.2f s (scikit-learn imported in %.2f s)",
                len(data.third_party) + len(data.borrower),
                time.perf_counter() - imported,
                imported - started,
            )
        return _classifier


def warm_up() -> None:
    """Trains the classifier now (the action server calls it at start-up)."""
    classifier()


def is_message(text: str | None) -> bool:
    """A message typed by someone: not empty, not a button payload ("/affirm")."""
    return bool(text) and not str(text).lstrip().startswith("/")


# The answers for the latest messages: every action that answers a message asks about it (the
# form validator, the intent's action, the actions they hand the turn to), 2-4 times a turn, and
# the classifier was over half of the action server's CPU (issue 11). Kept by a digest of the
# text, never the text itself (a message may be an identity answer).
KEPT_ANSWERS = 512
_answers: OrderedDict[bytes, bool] = OrderedDict()


def says_third_party(text: str | None) -> bool:
    """True when the speaker says (or shows) they are someone other than the borrower."""
    if not text or not is_message(text) or not normalize(text):
        return False
    key = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
    with _lock:
        answer = _answers.get(key)
        if answer is not None:
            _answers.move_to_end(key)
            return answer
    answer = classifier().says_third_party(text)
    with _lock:
        _answers[key] = answer
        while len(_answers) > KEPT_ANSWERS:
            _answers.popitem(last=False)
    return answer
