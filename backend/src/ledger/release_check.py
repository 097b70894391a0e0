"""The release report (`ledger release-check`, `make release-check`; docs/release-check.md).

Compares the working tree (the candidate) with a base git ref and writes one page and one
machine-readable summary, each section with its gates from the thresholds file:

* policy: when the policy file differs from the base's, the policy lab over the portfolio of
  DATABASE_URL with the base's file as the current policy (ledger.services.lab);
* responses: every bot text (bot/domain/*.yml responses, bot/actions/texts.py ``T``) added,
  removed or changed, both languages side by side; a changed text that lost a required
  figure (a ``{placeholder}``) fails;
* NLU: the held-out evaluation of the candidate (the last ``make test-rasa`` results when
  current, else trained and evaluated here) against the base's (a results file when given,
  else the base's NLU model trained in a temporary git worktree, or a given model file, and
  evaluated the same way; release_nlu, cached): macro-F1 per language, per-intent F1 drops,
  new confusions, messages whose prediction changed;
* stories: the last ``rasa test core`` run (bot/results/core/failed_test_stories.yml).

Only NLU models are trained here (with an evaluator); the story results are read, and reported
as missing or stale (older than the files they test) when they are.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import html
import json
import re
import subprocess
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

from .db.errors import STORAGE_FAILURE, STORAGE_UNAVAILABLE
from .domain.errors import PolicyError
from .policy_file import parse_policy, validated_yaml
from .release_nlu import NluEvaluator, NluRun, NluRunError

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
TEXTS_FILE = "bot/actions/texts.py"
DOMAIN_DIR = "bot/domain"
NLU_INPUTS = ("bot/data", "bot/domain", "bot/config.yml", "bot/nlu_eval")
LAB_READ_ERRORS: tuple[type[BaseException], ...] = (OSError, *STORAGE_UNAVAILABLE, *STORAGE_FAILURE)
STORY_INPUTS = ("bot/data", "bot/domain", "bot/config.yml", "bot/tests", "bot/actions")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NluThresholds(_Strict):
    min_macro_f1: Decimal
    max_macro_f1_drop: Decimal
    max_intent_f1_drop: Decimal


class StoryThresholds(_Strict):
    max_failed: int


class ResponseThresholds(_Strict):
    required_figures: list[str]


class PolicyThresholds(_Strict):
    max_share_losing_a_plan: Decimal | None


class Thresholds(_Strict):
    nlu: NluThresholds
    stories: StoryThresholds
    responses: ResponseThresholds
    policy: PolicyThresholds
    missing_results: Literal["warn", "fail"]


def load_thresholds(path: Path) -> Thresholds:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read thresholds file {path}: {exc}") from exc
    return validated_yaml(text, Thresholds, "thresholds file")


@dataclass
class Section:
    """One part of the report: its gates (name, passed, detail) and what it shows."""

    name: str
    status: str = "pass"  # pass | fail | unchanged | not checked
    gates: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def gate(self, name: str, passed: bool, detail: str) -> None:
        self.gates.append({"gate": name, "passed": passed, "detail": detail})
        if not passed:
            self.status = "fail"

    def not_checked(self, why: str, thresholds: Thresholds) -> None:
        self.notes.append(why)
        if thresholds.missing_results == "fail":
            self.gate("results present and current", False, why)
        elif self.status == "pass":
            self.status = "not checked"


# ---- reading the base and the working tree


class Repo:
    """Files of the working tree and of one git ref of the same repository."""

    def __init__(self, root: Path, base: str) -> None:
        self.root = root
        self.base = base
        res = self._git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
        if res.returncode != 0:
            raise PolicyError(f"--base: not a commit of this repository: {base!r}")
        self.base_commit = res.stdout.strip()

    def _git(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=False)

    def at_base(self, path: str) -> str | None:
        res = self._git("show", f"{self.base_commit}:{path}")
        return res.stdout if res.returncode == 0 else None

    def now(self, path: str) -> str | None:
        try:
            return (self.root / path).read_text(encoding="utf-8")
        except OSError:
            return None

    def base_files(self, directory: str) -> list[str]:
        res = self._git("ls-tree", "--name-only", f"{self.base_commit}:{directory}")
        return [f"{directory}/{n}" for n in res.stdout.split()] if res.returncode == 0 else []

    def files_now(self, directory: str) -> list[str]:
        d = self.root / directory
        return sorted(f"{directory}/{p.name}" for p in d.iterdir()) if d.is_dir() else []


# ---- responses


def texts_of_module(source: str | None) -> dict[tuple[str, str], str]:
    """{(key, language): text} of the ``T`` table of bot/actions/texts.py, read without running
    the module (ast.literal_eval of the assignment)."""
    if not source:
        return {}
    for node in ast.parse(source).body:
        target: ast.expr
        value: ast.expr | None
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == "T" and value is not None:
            table = ast.literal_eval(value)
            return {(f"texts.{k}", lang): t for k, by_lang in table.items() for lang, t in by_lang.items()}
    return {}


def texts_of_domain(source: str | None) -> dict[tuple[str, str], str]:
    """{(response, language): text} of a domain file's responses; a variation's language is the
    ``language`` slot of its condition, zh without one (bot/domain/responses.yml)."""
    if not source:
        return {}
    data = yaml.safe_load(source) or {}
    out: dict[tuple[str, str], str] = {}
    for name, variations in (data.get("responses") or {}).items():
        for v in variations or ():
            if not isinstance(v, dict) or "text" not in v:
                continue
            lang = next(
                (c.get("value") for c in v.get("condition") or () if c.get("name") == "language"),
                "zh",
            )
            key = (name, str(lang))
            out[key] = out[key] + "\n" + v["text"] if key in out else v["text"]
    return out


def bot_texts(read: Any, domain_files: list[str]) -> dict[tuple[str, str], str]:
    texts = texts_of_module(read(TEXTS_FILE))
    for path in domain_files:
        if path.endswith((".yml", ".yaml")):
            texts.update(texts_of_domain(read(path)))
    return texts


def response_section(repo: Repo, thresholds: Thresholds) -> Section:
    s = Section("responses")
    base = bot_texts(repo.at_base, repo.base_files(DOMAIN_DIR))
    now = bot_texts(repo.now, repo.files_now(DOMAIN_DIR))
    required = set(thresholds.responses.required_figures)
    rows = []
    for key in sorted(set(base) | set(now)):
        before, after = base.get(key), now.get(key)
        if before == after:
            continue
        change = "added" if before is None else "removed" if after is None else "changed"
        lost = sorted(set(PLACEHOLDER.findall(before or "")) - set(PLACEHOLDER.findall(after or "")))
        rows.append(
            {"response": key[0], "language": key[1], "change": change, "base": before, "candidate": after, "lost": lost}
        )
        if change == "changed" and required & set(lost):
            s.gate(
                "keeps its required figures",
                False,
                f"{key[0]} ({key[1]}) lost {', '.join('{' + f + '}' for f in sorted(required & set(lost)))}",
            )
    if not any(g["gate"] == "keeps its required figures" for g in s.gates):
        s.gate("keeps its required figures", True, "no changed text lost a required figure")
    s.data = {
        "changes": rows,
        "counts": {c: sum(r["change"] == c for r in rows) for c in ("added", "removed", "changed")},
    }
    return s


# ---- NLU and stories: the last results, read


def _newest(root: Path, paths: tuple[str, ...], exclude: str) -> float:
    newest = 0.0
    for p in paths:
        q = root / p
        files = [q] if q.is_file() else [f for f in q.rglob("*") if f.is_file()] if q.is_dir() else []
        for f in files:
            if exclude not in f.parts:
                newest = max(newest, f.stat().st_mtime)
    return newest


def nlu_section(
    root: Path,
    results: Path,
    base: Path | None,
    thresholds: Thresholds,
    *,
    evaluator: NluEvaluator | None = None,
    base_commit: str | None = None,
    base_model: Path | None = None,
) -> Section:
    """The NLU gates. The candidate's results are the last `make test-rasa` run's when current,
    else (with an evaluator) its model trained and evaluated here; the base's are ``base`` when
    given, else (with an evaluator) ``base_model`` or the base commit's model, trained here."""
    s = Section("nlu")
    t = thresholds.nlu
    runs: dict[str, Any] = {}
    fresh = results.is_file() and results.stat().st_mtime >= _newest(root, NLU_INPUTS, "results")
    try:
        if not fresh and evaluator is not None:
            run = evaluator.candidate()
            results = run.results
            runs["candidate"] = _run_note(run)
        if base is None and evaluator is not None and (base_model is not None or base_commit is not None):
            run = evaluator.model_file(base_model) if base_model is not None else evaluator.base(str(base_commit))
            base = run.results
            runs["base"] = _run_note(run)
    except NluRunError as exc:
        s.gate("NLU models trained and evaluated", False, str(exc))
        s.data = {"runs": runs}
        return s
    if not results.is_file():
        s.not_checked(f"no NLU results at {results}: run `make test-rasa` (or nlu_eval/evaluate.py)", thresholds)
        return s
    if "candidate" not in runs and not fresh:
        s.not_checked(f"{results} is older than the NLU data or the bot's domain: run `make test-rasa`", thresholds)
    cand = json.loads(results.read_text(encoding="utf-8"))
    old = json.loads(base.read_text(encoding="utf-8")) if base is not None else None
    langs = []
    for lang, r in sorted(cand.items()):
        f1 = Decimal(str(round(r["macro_f1"], 4)))
        row: dict[str, Any] = {"language": lang, "candidate_macro_f1": str(f1)}
        s.gate(f"macro-F1 {lang} >= {t.min_macro_f1}", f1 >= t.min_macro_f1, f"{lang}: {f1}")
        if old is not None and lang in old:
            o = old[lang]
            base_f1 = Decimal(str(round(o["macro_f1"], 4)))
            row["base_macro_f1"] = str(base_f1)
            s.gate(
                f"macro-F1 {lang} drop <= {t.max_macro_f1_drop}",
                base_f1 - f1 <= t.max_macro_f1_drop,
                f"{lang}: {base_f1} -> {f1}",
            )
            before = {i["intent"]: Decimal(str(round(i["f1"], 4))) for i in o["per_intent"]}
            intents = []
            for i in r["per_intent"]:
                b = before.get(i["intent"])
                now = Decimal(str(round(i["f1"], 4)))
                intents.append({"intent": i["intent"], "base": None if b is None else str(b), "candidate": str(now)})
                if b is not None and b - now > t.max_intent_f1_drop:
                    s.gate(f"intent F1 drop <= {t.max_intent_f1_drop}", False, f"{lang} {i['intent']}: {b} -> {now}")
            row["per_intent"] = intents
            known = {(c["gold"], c["predicted"]) for c in o.get("confusions", ())}
            row["new_confusions"] = [c for c in r.get("confusions", ()) if (c["gold"], c["predicted"]) not in known]
            was = {e["text"]: e["predicted"] for e in o.get("errors", ())}
            now_err = {e["text"]: e["predicted"] for e in r.get("errors", ())}
            row["prediction_changed"] = [
                {"text": text, "base": was.get(text, "(right)"), "candidate": now_err.get(text, "(right)")}
                for text in sorted(set(was) | set(now_err))
                if was.get(text) != now_err.get(text)
            ]
        langs.append(row)
    if old is None:
        s.notes.append("no base results (NLU_BASE, or a base to train): only the absolute gate is checked")
    elif not any(g["gate"].startswith("intent F1") for g in s.gates):
        s.gate(f"intent F1 drop <= {t.max_intent_f1_drop}", True, "no intent dropped more")
    s.data = {"results": str(results), "base": str(base) if base else None, "runs": runs, "languages": langs}
    return s


def _run_note(run: NluRun) -> dict[str, Any]:
    return {
        "results": str(run.results),
        "how": run.source,
        "commit": run.commit,
        "fingerprint": run.fingerprint[:24],
        "seconds": round(run.seconds, 1),
    }


def story_section(root: Path, results_dir: Path, thresholds: Thresholds) -> Section:
    s = Section("stories")
    failed_file = results_dir / "failed_test_stories.yml"
    if not failed_file.is_file():
        s.not_checked(f"no story results at {results_dir}: run `make test-rasa`", thresholds)
        return s
    if failed_file.stat().st_mtime < _newest(root, STORY_INPUTS, "results"):
        s.not_checked(f"{failed_file} is older than the stories or the bot: run `make test-rasa`", thresholds)
    failed = re.findall(r"^- story: (.+)$", failed_file.read_text(encoding="utf-8"), flags=re.M)
    s.gate(
        f"failed stories <= {thresholds.stories.max_failed}",
        len(failed) <= thresholds.stories.max_failed,
        f"{len(failed)} failed" + (": " + ", ".join(failed[:10]) if failed else ""),
    )
    s.data = {"results": str(failed_file), "failed": failed}
    return s


# ---- the conversation benchmark (BENCH=1)

BENCH_FIGURES = ("p50_ms", "p95_ms", "p99_ms", "max_ms", "turns_per_s", "turns", "errors", "silent_turns")


def bench_section(run: list[str] | None, measured: Path, latest: Path, thresholds: Thresholds) -> Section:
    """The conversation benchmark's figures: ``run`` (bench/conversation_bench.py writing
    ``measured``) is run when given; when it cannot reach Rasa (exit 2) or is not given, the
    latest figures it wrote (``latest``) are read instead, and the report says which."""
    s = Section("bench")
    source = None
    if run is not None:
        try:
            res = subprocess.run(run, capture_output=True, text=True, timeout=900, check=False)
            rc, output = res.returncode, res.stdout + res.stderr
        except (OSError, subprocess.TimeoutExpired) as exc:
            rc, output = 2, str(exc)
        if rc in (0, 1) and measured.is_file():
            source = measured
            s.notes.append("measured now by bench/conversation_bench.py against the running stack")
        else:
            last = output.strip().splitlines()[-1:] or [""]
            s.notes.append(f"the benchmark could not run now (exit {rc}: {last[0]})")
    if source is None:
        if not latest.is_file():
            s.not_checked(
                f"no figures at {latest}: start the stack (make run), then BENCH=1 make release-check "
                "(or backend/.venv/bin/python bench/conversation_bench.py)",
                thresholds,
            )
            return s
        source = latest
    s.status = "reported"
    figures = json.loads(source.read_text(encoding="utf-8"))
    if source == latest:
        when = figures.get("measured_at", "(time unknown)")
        s.notes.append(f"the latest figures of bench/conversation_bench.py, read from {latest}, measured {when}")
    s.data = {"file": str(source), "figures": figures}
    return s


# ---- policy


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def policy_section(
    repo: Repo,
    policy_path: str,
    candidate_file: Path,
    database_url: str | None,
    out: Path,
    as_of: date,
    thresholds: Thresholds,
) -> Section:
    from .scenario_file import load_scenarios
    from .services.lab import LabInputs, simulate

    s = Section("policy")
    base_text = repo.at_base(policy_path)
    try:
        cand_bytes = candidate_file.read_bytes()
        cand_text = cand_bytes.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        s.gate("candidate policy file readable", False, str(exc))
        return s
    cand_sha = hashlib.sha256(cand_bytes).hexdigest()
    s.data = {"file": policy_path, "candidate": str(candidate_file), "candidate_sha256": cand_sha}
    if base_text == cand_text:
        s.status = "unchanged"
        s.notes.append(f"{policy_path} is the same as at the base: the policy lab is not run")
        return s
    try:
        candidate = parse_policy(cand_text)
    except PolicyError as exc:
        s.gate("candidate policy file valid", False, str(exc))
        return s
    s.gate("candidate policy file valid", True, "checked as at start-up")
    current = parse_policy(base_text) if base_text is not None else None
    if current is None:
        s.notes.append(f"{policy_path} does not exist at the base: compared with the packaged default policy")
        from .policy_file import load_policy

        current = load_policy(None)
    if not database_url:
        s.not_checked("no DATABASE_URL: the policy lab needs the portfolio", thresholds)
        return s
    inputs = LabInputs(
        current=current,
        candidate=candidate,
        as_of=as_of,
        profiles=load_scenarios(None, candidate),
        current_source=f"{policy_path} at {repo.base}",
        candidate_source=str(candidate_file),
        scenarios_source="the packaged default scenarios",
        candidate_sha256=cand_sha,
        current_sha256=sha256_text(base_text) if base_text is not None else "",
    )
    try:
        report = asyncio.run(simulate(database_url, inputs, out / "policy-lab"))
    except LAB_READ_ERRORS as exc:
        s.not_checked(f"the policy lab could not read the portfolio ({type(exc).__name__}): {exc}", thresholds)
        return s
    losing = report["loans_losing_a_plan"]
    share = Decimal(losing) / report["loans"] if report["loans"] else Decimal(0)
    limit = thresholds.policy.max_share_losing_a_plan
    if limit is not None:
        s.gate(f"share of loans losing a plan <= {limit}", share <= limit, f"{losing} of {report['loans']} loans")
    s.data |= {
        "lab_report": str(out / "policy-lab" / "report.html"),
        "loans": report["loans"],
        "loans_losing_a_plan": losing,
        "changes": report["changes"]["counts"],
        "waived_total": {
            p["plan_type"]: {side: p["waived"][side]["total"] for side in ("current", "candidate")}
            for p in report["plans"]
        },
    }
    return s


# ---- the report


def run_release_check(
    *,
    root: Path,
    base: str,
    thresholds_file: Path,
    out: Path,
    policy_path: str,
    candidate_policy: Path,
    database_url: str | None,
    nlu_results: Path,
    nlu_base: Path | None,
    story_results: Path,
    as_of: date,
    nlu_evaluator: NluEvaluator | None = None,
    nlu_base_model: Path | None = None,
    bench: list[str] | None | Literal[False] = False,
    bench_latest: Path | None = None,
) -> dict[str, Any]:
    """Every section, the page and the summary written into ``out``; returns the summary.
    With ``nlu_evaluator`` the NLU results missing on either side are made by training
    (release_nlu); ``nlu_base_model`` is a model file standing for the base's NLU. ``bench``
    (BENCH=1) adds the conversation benchmark: the command that measures it now (None: read
    ``bench_latest`` only)."""
    thresholds = load_thresholds(thresholds_file)
    repo = Repo(root, base)
    out.mkdir(parents=True, exist_ok=True)
    sections = [
        policy_section(repo, policy_path, candidate_policy, database_url, out, as_of, thresholds),
        response_section(repo, thresholds),
        nlu_section(
            root,
            nlu_results,
            nlu_base,
            thresholds,
            evaluator=nlu_evaluator,
            base_commit=repo.base_commit,
            base_model=nlu_base_model,
        ),
        story_section(root, story_results, thresholds),
    ]
    if bench is not False:
        latest = bench_latest or root / "var" / "bench" / "conversation.json"
        sections.append(bench_section(bench, out / "bench-conversation.json", latest, thresholds))
    passed = all(s.status != "fail" for s in sections)
    summary = {
        "base": base,
        "base_commit": repo.base_commit,
        "base_model": str(nlu_base_model) if nlu_base_model else None,
        "thresholds": str(thresholds_file),
        "passed": passed,
        "sections": [s.__dict__ for s in sections],
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str), "utf-8")
    (out / "report.html").write_text(render_html(summary), encoding="utf-8")
    return summary


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _table(head: list[str], rows: list[list[Any]]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def render_html(summary: dict[str, Any]) -> str:
    verdict = "PASS" if summary["passed"] else "FAIL"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Release check</title><style>",
        "body{font-family:sans-serif;margin:2em;max-width:80em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #bbb;padding:.25em .6em;"
        "vertical-align:top;text-align:left}th{background:#eee}.pass{color:#17692e}.fail{color:#b00020}"
        ".status{font-weight:bold}.note{background:#fff7dd;padding:.4em}",
        "</style></head><body>",
        f"<h1>Release check: <span class='{verdict.lower()}'>{verdict}</span></h1>",
        f"<p>Candidate: the working tree. Base: <code>{_e(summary['base'])}</code> "
        f"({_e(summary['base_commit'][:12])}). Thresholds: <code>{_e(summary['thresholds'])}</code>.</p>",
        _table(
            ["section", "status", "gates failed"],
            [[s["name"], s["status"], sum(not g["passed"] for g in s["gates"])] for s in summary["sections"]],
        ),
    ]
    for s in summary["sections"]:
        parts.append(f"<h2>{_e(s['name'])}: <span class='status'>{_e(s['status'])}</span></h2>")
        for note in s["notes"]:
            parts.append(f"<p class='note'>{_e(note)}</p>")
        if s["gates"]:
            parts.append(
                _table(
                    ["gate", "result", "detail"],
                    [[g["gate"], "pass" if g["passed"] else "FAIL", g["detail"]] for g in s["gates"]],
                )
            )
        d = s["data"]
        if s["name"] == "policy" and "loans" in d:
            parts.append(
                f"<p>{d['loans']} loans; {d['loans_losing_a_plan']} lose at least one plan. Full report: "
                f"<code>{_e(d['lab_report'])}</code></p>"
            )
            parts.append(
                _table(
                    ["plan", "direction", "deciding rule", "loans"],
                    [[c["plan_type"], c["direction"], c["rule"], c["loans"]] for c in d["changes"]],
                )
            )
            parts.append(
                _table(
                    ["plan", "waived now (CNY)", "waived candidate (CNY)"],
                    [[k, v["current"], v["candidate"]] for k, v in d["waived_total"].items()],
                )
            )
        if s["name"] == "responses":
            counts = d.get("counts", {})
            parts.append(f"<p>{', '.join(f'{v} {k}' for k, v in counts.items())}.</p>")
            parts.append(
                _table(
                    ["response", "language", "change", "base", "candidate", "figures lost"],
                    [
                        [r["response"], r["language"], r["change"], r["base"], r["candidate"], " ".join(r["lost"])]
                        for r in d.get("changes", ())
                    ],
                )
            )
        if s["name"] == "nlu":
            if d.get("runs"):
                parts.append(
                    _table(
                        ["side", "results", "how", "commit", "seconds"],
                        [[k, r["results"], r["how"], r["commit"] or "", r["seconds"]] for k, r in d["runs"].items()],
                    )
                )
            for lang in d.get("languages", ()):
                parts.append(
                    f"<h3>{_e(lang['language'])}: macro-F1 {_e(lang.get('base_macro_f1', '–'))} → "
                    f"{_e(lang['candidate_macro_f1'])}</h3>"
                )
                if "per_intent" in lang:
                    parts.append(
                        _table(
                            ["intent", "F1 base", "F1 candidate"],
                            [[i["intent"], i["base"], i["candidate"]] for i in lang["per_intent"]],
                        )
                    )
                    parts.append(
                        _table(
                            ["new confusion: gold", "predicted", "count"],
                            [[c["gold"], c["predicted"], c["count"]] for c in lang["new_confusions"]],
                        )
                    )
                    parts.append(
                        _table(
                            ["message", "base prediction", "candidate prediction"],
                            [[p["text"], p["base"], p["candidate"]] for p in lang["prediction_changed"]],
                        )
                    )
        if s["name"] == "bench" and "figures" in d:
            f = d["figures"]
            parts.append(
                f"<p>{_e(f.get('conversations'))} concurrent conversations, {_e(f.get('rounds'))} rounds, "
                f"pause up to {_e(f.get('think_ms'))} ms; {_e(f.get('machine'))}; load average "
                f"{_e(f.get('load_before'))} before, {_e(f.get('load_after'))} after.</p>"
            )
            parts.append(_table(["figure", "value"], [[k, f.get(k)] for k in BENCH_FIGURES]))
        if s["name"] == "stories" and d.get("failed"):
            parts.append(_table(["failed story"], [[f] for f in d["failed"]]))
    parts.append("</body></html>")
    return "\n".join(parts)
