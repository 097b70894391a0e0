"""Bilingual texts that carry figures, in one place.

Tone (collections-policy.md, product.md): plain, respectful, factual; never threatening,
never shaming, never inventing consequences. Every amount shown here comes from the ledger
(or, for the budget, from the borrower's own figures) and is formatted, never computed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from actions.parsing import money

LANGUAGES = ("zh", "en")

PLAN_NAMES = {
    "fee_waiver": {"zh": "减免罚息和违约金", "en": "fee waiver"},
    "deferral": {"zh": "延期还款", "en": "payment deferral"},
    "term_extension": {"zh": "延长还款期限", "en": "term extension"},
    "reduced_rate": {"zh": "降低利率", "en": "reduced interest rate"},
    "quarterly": {"zh": "按季还款", "en": "quarterly payments"},
    "settlement": {"zh": "一次性结清", "en": "one-off settlement"},
}
CHANNEL_NAMES = {
    "sms": {"zh": "短信", "en": "SMS"},
    "phone": {"zh": "电话", "en": "phone calls"},
    "wechat": {"zh": "微信", "en": "WeChat"},
    "email": {"zh": "邮件", "en": "email"},
    "app": {"zh": "App 推送", "en": "app notifications"},
    "web": {"zh": "网页消息", "en": "web messages"},
    "bank_transfer": {"zh": "银行转账", "en": "bank transfer"},
    "wechat_pay": {"zh": "微信支付", "en": "WeChat Pay"},
    "alipay": {"zh": "支付宝", "en": "Alipay"},
    "card": {"zh": "银行卡", "en": "bank card"},
}
FIGURE_NAMES = {
    "monthly_income": {"zh": "每月收入", "en": "monthly income"},
    "essential_expenses": {"zh": "每月必要开销", "en": "essential monthly costs"},
    "other_debt_payments": {"zh": "其他贷款每月还款", "en": "other debt payments"},
}
REASON_NAMES = {
    "job_loss": {"zh": "失业", "en": "job loss"},
    "illness": {"zh": "生病或受伤", "en": "illness or injury"},
    "income_drop": {"zh": "收入下降", "en": "a drop in income"},
    "business_failure": {"zh": "生意困难", "en": "business difficulties"},
    "family_emergency": {"zh": "家庭变故", "en": "a family emergency"},
    "irregular_income": {"zh": "收入不固定", "en": "irregular income"},
    "other": {"zh": "其他困难", "en": "another difficulty"},
}
RECORD_NAMES = {
    "dispute": {"zh": "异议", "en": "dispute"},
    "complaint": {"zh": "投诉", "en": "complaint"},
}

# The ledger's products (a loan's `product`), as the borrower knows them.
PRODUCT_NAMES = {
    "fenfu": {"zh": "分付", "en": "Fenfu purchase"},
    "cash_loan": {"zh": "现金贷", "en": "cash loan"},
    "consumer_instalment": {"zh": "消费分期", "en": "instalment loan"},
}

T: dict[str, dict[str, str]] = {
    # ---- verification
    "verify_intro": {
        "zh": "为了保护您的账户信息，我需要先核实您的身份（大约三步）。",
        "en": "To protect your account, I first need to confirm who you are (three short questions).",
    },
    "verify_ok": {
        "zh": "谢谢{name}，身份已核实。",
        "en": "Thank you{name}, you're verified.",
    },
    "reminder_opening_instalment": {
        "zh": "您收到的提醒是关于尾号{tail}的借款第{instalment}期，{due_date}到期，应还 {amount}。",
        "en": "You received a reminder about instalment {instalment} of your loan ending {tail}, due {due_date}: {amount} to pay.",
    },
    "reminder_opening_overdue": {
        "zh": "您收到的提醒是关于尾号{tail}的借款第{instalment}期（{due_date}到期），目前已逾期 {days_past_due} 天，结清逾期需还 {amount}。",
        "en": "You received a reminder about instalment {instalment} of your loan ending {tail}, due {due_date}: it is {days_past_due} days past due, and {amount} brings the loan up to date.",
    },
    "reminder_opening_plan": {
        "zh": "您收到的提醒是关于尾号{tail}借款还款计划的第{instalment}期，{due_date}到期。",
        "en": "You received a reminder about instalment {instalment} of your repayment plan for the loan ending {tail}, due {due_date}.",
    },
    "reminder_opening_promise": {
        "zh": "您收到的提醒是关于您承诺在{promised_date}还款 {amount}（尾号{tail}的借款）。",
        "en": "You received a reminder about your promise to pay {amount} on {promised_date} (loan ending {tail}).",
    },
    "reminder_opening_offer": {
        "zh": "您收到的提醒是关于尾号{tail}借款的还款方案，{expires_at}前有效。",
        "en": "You received a reminder about the repayment offer for your loan ending {tail}, open until {expires_at}.",
    },
    "verify_failed": {
        "zh": "抱歉，这些信息与我们的记录不一致。您还可以再试 {attempts_left} 次，我们从头再来一遍。",
        "en": "Sorry, those details don't match our records. You have {attempts_left} more attempt(s); let's start again.",
    },
    "verify_failed_plain": {
        "zh": "抱歉，这些信息与我们的记录不一致，我们从头再来一遍。",
        "en": "Sorry, those details don't match our records; let's start again.",
    },
    "invalid_identity_phone": {
        "zh": "我没能识别出手机号或借款编号。请输入 11 位手机号，或以 HX 开头的借款编号。",
        "en": "I couldn't read a phone number or loan number. Please send your 11-digit mobile number or your loan number starting with HX.",
    },
    "invalid_identity_dob": {
        "zh": "我没能识别出日期。请按 1990-03-15 或 1990年3月15日 的格式输入出生日期。",
        "en": "I couldn't read that date. Please send your date of birth like 1990-03-15 or March 15 1990.",
    },
    "invalid_identity_id_last4": {
        "zh": "请输入身份证号码的最后 4 位（最后一位可能是 X）。",
        "en": "Please send the last 4 characters of your national ID number (the last one may be X).",
    },
    "verify_first": {
        "zh": "好的，核实身份之后我就回答这个问题。",
        "en": "Sure, I'll answer that as soon as you're verified.",
    },
    "verify_stopped": {
        "zh": "好的，已停止核实。没有核实身份之前，我无法提供账户信息。",
        "en": "OK, I've stopped the check. I can't share account details until you're verified.",
    },
    "verify_stopped_offer": {
        "zh": "好的，已停止核实，没有记录任何内容。没有核实身份之前我无法查看您的账户；如果您愿意，可以请同事来帮您。",
        "en": "OK, I've stopped the check and nothing has been recorded. I can't look at your account until you're verified; if you like, a colleague can help you.",
    },
    "third_party": {
        "zh": "谢谢您的关心。为了保护每个人的隐私，账户的事情我只能和账户本人沟通，不能向其他任何人透露，包括是否有这个账户。本人随时可以自己联系我们：在我们网站或 App 里的这个对话窗口，或者通过我们的微信。如果您就是账户本人，是我理解错了，可以点“转人工”，由同事为您核实。",
        "en": "Thank you for getting in touch. To protect everyone's privacy, I can only discuss an account with the account holder, and I can't share anything about it with anyone else, not even whether there is one. The account holder can contact us themselves at any time: in this chat on our website or in the app, or on our WeChat. If you are the account holder and I got this wrong, tap \"Talk to a person\" and a colleague will check with you.",
    },
    "third_party_contact": {
        "zh": "账户的事情我只能和账户本人沟通。本人可以自己在我们网站或 App 里的这个对话窗口，或者通过我们的微信联系我们，也可以在那里要求人工客服。",
        "en": "I can only discuss an account with the account holder. They can contact us themselves in this chat on our website or in the app, or on our WeChat, and ask for a person there.",
    },
    "session_expired": {
        "zh": "为了安全，验证已过期，需要再核实一次身份。",
        "en": "For your security, the verification has expired; I need to confirm who you are again.",
    },
    # ---- backend trouble
    "backend_down": {
        "zh": "抱歉，我们的系统暂时无法查询，请稍后再试。如果您希望，我可以请人工客服跟进。",
        "en": "Sorry, our system can't be reached right now. Please try again in a little while, or I can ask a person to follow up with you.",
    },
    "backend_error": {
        "zh": "抱歉，这一步没有办成。您可以稍后再试，或者让人工客服来帮您。",
        "en": "Sorry, that didn't go through. You can try again later, or I can ask a person to help you.",
    },
    # ---- human
    "human_offer": {
        "zh": "需要我为您转接人工客服吗？",
        "en": "Would you like me to connect you with a person?",
    },
    "escalated": {
        "zh": "已为您转接人工客服（编号 {reference}），同事会尽快在这里回复您。",
        "en": "I've passed your conversation to a person (reference {reference}); a colleague will reply here as soon as possible.",
    },
    # ---- status
    "status_overdue": {
        "zh": "您的借款 {loan_number} 目前逾期 {dpd} 天（{bucket}），逾期金额共 {total}：本金 {principal}，利息 {interest}，罚息 {penalty}，违约金 {fees}。最早一期未还款的到期日是 {since}。把账户还到正常状态需要还 {bring_current}。",
        "en": "Your loan {loan_number} is {dpd} days past due ({bucket}). The overdue amount is {total}: principal {principal}, interest {interest}, penalty interest {penalty}, late fees {fees}. The oldest unpaid instalment was due on {since}. To bring the account up to date you would pay {bring_current}.",
    },
    "status_current": {
        "zh": "好消息：您的借款 {loan_number} 目前没有逾期。",
        "en": "Good news: your loan {loan_number} has nothing overdue.",
    },
    "status_next_due": {
        "zh": "下一期 {amount} 将于 {due_date} 到期。",
        "en": "The next instalment of {amount} is due on {due_date}.",
    },
    "status_closed": {
        "zh": "您的借款 {loan_number} 已经结清，不需要再还款。",
        "en": "Your loan {loan_number} is fully repaid; nothing more is due.",
    },
    "status_refund": {
        "zh": "我们多收了您 {amount}，这笔钱会退还给您。",
        "en": "You overpaid by {amount}; this will be refunded to you.",
    },
    "status_dispute": {
        "zh": "您就这笔借款提出的异议（案件号 {case_number}）正在处理中，我们会在 {reply_due_by} 前答复，在此期间催收已暂停。",
        "en": "Your dispute about this loan (case {case_number}) is being reviewed; we'll reply by {reply_due_by}, and collection is paused in the meantime.",
    },
    "status_promise": {
        "zh": "您已承诺在 {promised_date} 前还款 {amount}。",
        "en": "You have promised to pay {amount} by {promised_date}.",
    },
    "status_arrangement": {
        "zh": "您目前有一个生效中的还款方案（{plan}）。",
        "en": "You have an active repayment arrangement ({plan}).",
    },
    # ---- a borrower with several loans (actions/loans.py)
    "loans_overview": {
        "zh": "您名下有 {count} 笔借款：",
        "en": "You have {count} loans with us:",
    },
    "loans_line_overdue": {
        "zh": "• {label}：逾期 {dpd} 天，逾期金额 {total}",
        "en": "• {label}: {dpd} days past due, {total} overdue",
    },
    "loans_line_current": {
        "zh": "• {label}：没有逾期",
        "en": "• {label}: nothing overdue",
    },
    "loans_line_closed": {
        "zh": "• {label}：已结清",
        "en": "• {label}: fully repaid",
    },
    "loan_which": {
        "zh": "您名下有 {count} 笔借款，请问这件事是关于哪一笔的？",
        "en": "You have {count} loans with us. Which one is this about?",
    },
    "loan_which_again": {
        "zh": "抱歉，我没听出是哪一笔。请点选下面的借款，或告诉我借款编号的后四位。",
        "en": "Sorry, I couldn't tell which loan you mean. Please tap one below, or tell me the last four digits of its loan number.",
    },
    "loan_about": {
        "zh": "关于您的{label}：",
        "en": "About your {label}:",
    },
    "loan_assumed": {
        "zh": "您逾期的是{label}这一笔，下面说的就是这一笔。如果您指的是另一笔，请告诉我。",
        "en": "The loan that is overdue is your {label}, so this is about that one. If you meant another loan, just tell me which.",
    },
    # ---- fees and consequences
    "fees_account": {
        "zh": "您账户上目前的罚息是 {penalty}，违约金是 {fees}（逾期 {dpd} 天）。",
        "en": "On your account the penalty interest is currently {penalty} and late fees are {fees} ({dpd} days past due).",
    },
    "fees_none": {
        "zh": "您的账户目前没有罚息或违约金。",
        "en": "Your account has no penalty interest or late fees at the moment.",
    },
    "policy_unavailable": {
        "zh": "抱歉，暂时无法取到费用和规则的说明，请稍后再试。",
        "en": "Sorry, I can't fetch the rules right now; please try again shortly.",
    },
    "consequences_account": {
        "zh": "您的账户目前逾期 {dpd} 天。尽早还款或申请适合您的还款方案，可以减少这些影响。",
        "en": "Your account is {dpd} days past due. Paying early or agreeing a plan that suits you limits these effects.",
    },
    "consequences_current": {
        "zh": "您的账户目前没有逾期，按时还款就不会有这些影响。",
        "en": "Your account is up to date; paying on time avoids all of this.",
    },
    "consequences_help": {
        "zh": "如果您有困难，可以告诉我，我们一起看看有没有适合您的方案。",
        "en": "If things are difficult, tell me and we'll look at the options that fit your situation.",
    },
    # ---- hardship and plans
    "dispute_paused": {
        "zh": "您的异议（案件号 {case_number}）还在处理中，在此期间催收已暂停，也暂时不能安排还款方案或还款承诺。我们会在 {reply_due_by} 前答复您。",
        "en": "Your dispute (case {case_number}) is still open, so collection is paused and no repayment plans or promises can be set up for now. We'll reply by {reply_due_by}.",
    },
    "hardship_start": {
        "zh": "谢谢您告诉我，遇到困难并不丢人，我们一起想办法。我会问几个简单的问题来评估适合您的方案。",
        "en": "Thank you for telling me; we'll work this out together. I'll ask a few short questions to find the options that fit you.",
    },
    "invalid_hardship_reason": {
        "zh": "能简单说说是什么原因吗？比如失业、生病、收入下降、生意困难、家里有急事、收入不固定。",
        "en": "Could you tell me briefly what happened? For example job loss, illness, lower income, business trouble, a family emergency or irregular income.",
    },
    "invalid_hardship_duration": {
        "zh": "这个困难是暂时的（几个月内会好转），还是长期的？",
        "en": "Is this difficulty temporary (likely better within a few months) or long-term?",
    },
    "invalid_amount": {
        "zh": "我没能看懂这个金额，请输入一个数字，比如 5000 或 五千。",
        "en": "I couldn't read that amount; please send a number such as 5000 or 5k.",
    },
    "negative_amount": {
        "zh": "金额不能是负数，请再输入一次。",
        "en": "The amount can't be negative; please send it again.",
    },
    "insane_amount": {
        "zh": "这个金额看起来不太对，请再确认一下每月的金额。",
        "en": "That amount looks unusual; could you check the monthly figure again?",
    },
    "hardship_stopped": {
        "zh": "好的，我们先不继续评估，没有记录任何内容，也没有开通任何方案。如果您愿意，可以请同事直接和您一起看看怎么办；您也随时可以再来找我。",
        "en": "OK, we'll stop the assessment here: nothing has been recorded and no plan has been set up. If you like, a colleague can look at your situation with you; you can also come back to me any time.",
    },
    "hardship_known_figures": {
        "zh": "我会沿用您之前告诉我的数字：{figures}。如有变化，直接告诉我就行（比如“收入现在是 4000”）。",
        "en": "I'll use the figures you gave me earlier: {figures}. If anything has changed, just tell me (for example 'my income is now 4000').",
    },
    "hardship_reason_updated": {
        "zh": "好的，困难原因从“{before}”改为“{after}”。",
        "en": "OK, the reason changed from {before} to {after}.",
    },
    "hardship_figure_updated": {
        "zh": "好的，{name}改为 {amount}。",
        "en": "OK, {name} changed to {amount}.",
    },
    "plans_intro": {
        "zh": "根据您提供的情况，您可以选择以下方案：",
        "en": "Based on what you told me, these options are available to you:",
    },
    "plan_line_monthly": {
        "zh": "{n}. {plan}：每月还 {payment}，共还 {total}{holiday}",
        "en": "{n}. {plan}: {payment} a month, {total} in total{holiday}",
    },
    "plan_line_quarterly": {
        "zh": "{n}. {plan}：每季度还 {payment}，共还 {total}",
        "en": "{n}. {plan}: {payment} every quarter, {total} in total",
    },
    "plan_line_once": {
        "zh": "{n}. {plan}：一次性还 {payment}（共还 {total}，减免 {waived}）",
        "en": "{n}. {plan}: one payment of {payment} ({total} in total, {waived} waived)",
    },
    "plan_holiday": {
        "zh": "（前 {months} 个月暂停还款）",
        "en": " (after a {months}-month payment holiday)",
    },
    "plans_choose": {
        "zh": "请选择一个方案，我会先给您看详细安排再确认。",
        "en": "Please choose one; I'll show you the details before anything is confirmed.",
    },
    "plan_not_eligible": {
        "zh": "您问到的「{plan}」目前不适用：{reasons}。",
        "en": "The {plan} you asked about isn't available: {reasons}.",
    },
    "no_plans": {
        "zh": "根据目前的情况，系统没有能直接提供的方案。我已经请专人审核您的情况（编号 {reference}），同事会尽快联系您。",
        "en": "There's no option I can offer directly right now, so I've asked a specialist to review your situation (reference {reference}). A colleague will get back to you soon.",
    },
    "plan_unknown_choice": {
        "zh": "抱歉，我没看懂您选的是哪个方案，请点选下面的按钮或回复方案的序号。",
        "en": "Sorry, I didn't catch which option you chose; please tap a button or reply with its number.",
    },
    "plan_summary": {
        "zh": "您选择了「{plan}」：{first_line}共 {count} 期，合计 {total}。前几期：{preview}",
        "en": "You chose the {plan}: {first_line}{count} payment(s), {total} in total. First payments: {preview}",
    },
    "plan_summary_first_monthly": {"zh": "每月 {payment}，", "en": "{payment} a month, "},
    "plan_summary_first_quarterly": {"zh": "每季度 {payment}，", "en": "{payment} a quarter, "},
    "plan_summary_first_once": {"zh": "一次性 {payment}，", "en": "one payment of {payment}, "},
    "plan_confirm": {
        "zh": "确认接受这个方案吗？",
        "en": "Do you want to accept this plan?",
    },
    "dispute_identity_theft": {
        "zh": "如果是有人冒用您的身份借款，我们的同事可以尽快和您一起处理（核对信息、报案需要的材料）。要转接人工吗？",
        "en": "If someone took out this loan in your name, a colleague can work on it with you right away (checking the details, what a police report needs). Would you like a person?",
    },
    "plan_confirm_again": {
        "zh": "您刚才选的方案还在等您确认：接受这个方案吗？",
        "en": "The plan you chose is still waiting for your answer: do you want to accept it?",
    },
    "plan_accepted": {
        "zh": "方案已生效。第一笔 {amount} 请在 {due_date} 前支付。感谢您的配合！",
        "en": "Your plan is in place. The first payment of {amount} is due on {due_date}. Thank you!",
    },
    "plan_accepted_plain": {
        "zh": "方案已生效，感谢您的配合！",
        "en": "Your plan is in place. Thank you!",
    },
    "plan_declined": {
        "zh": "好的，方案没有生效。您可以选择其他方案，或者让人工客服帮您看看。",
        "en": "OK, nothing has been accepted. You can choose another option, or ask a person to help.",
    },
    "offer_expired": {
        "zh": "这个方案已经过期了，我们需要重新评估一下。请再说一次“申请还款方案”。",
        "en": "That offer has expired, so we need to assess again. Please say 'payment plan' once more.",
    },
    "offer_superseded": {
        "zh": "这个方案已被更新的评估取代，请从最新的方案中选择。",
        "en": "That offer was replaced by a newer assessment; please choose from the latest options.",
    },
    "offer_already_accepted": {
        "zh": "这个方案之前已经接受过了，不需要再确认。",
        "en": "That plan was already accepted; nothing more is needed.",
    },
    "offer_not_eligible": {
        "zh": "抱歉，这个方案现在已不适用。我可以为您转接人工客服。",
        "en": "Sorry, that plan no longer applies. I can connect you with a person.",
    },
    "arrangement_exists": {
        "zh": "您的借款已有一个生效中的还款方案，不能同时再接受一个。",
        "en": "Your loan already has an active arrangement, so another one can't be added.",
    },
    "no_offer_pending": {
        "zh": "目前没有待确认的方案。如果需要，我可以帮您申请还款方案。",
        "en": "There's no plan waiting for confirmation. I can help you apply for one if you like.",
    },
    # ---- plans on one basis (offers.py): each plan against today's schedule, from the ledger's figures
    "plans_current": {
        "zh": "您目前的还款计划：每月 {payment}，现在应还 {due_now}，共 {count} 期，到 {last} 还清，共还 {total}。",
        "en": "Your current schedule: {payment} a month, {due_now} due now, {count} payments until {last}, {total} in all.",
    },
    "plans_current_nothing_due": {
        "zh": "您目前的还款计划：每月 {payment}，共 {count} 期，到 {last} 还清，共还 {total}。",
        "en": "Your current schedule: {payment} a month, {count} payments until {last}, {total} in all.",
    },
    "plan_line": {
        "zh": "{n}. {plan}：{figures}",
        "en": "{n}. {plan}: {figures}",
    },
    "plan_figures": {
        "zh": "{payments}；{dates}；共还 {total}（比现在{change}）",
        "en": "{payments}; {dates}; {total} in all (vs today: {change})",
    },
    "plan_pay_monthly": {"zh": "每月 {payment}", "en": "{payment} a month"},
    "plan_pay_monthly_then": {"zh": "首期 {payment}，以后每月 {later}", "en": "{payment} first, then {later} a month"},
    "plan_pay_quarterly": {"zh": "每季度 {payment}", "en": "{payment} a quarter"},
    "plan_pay_quarterly_then": {
        "zh": "每季度还，首次 {payment}，之后每次 {later}",
        "en": "every quarter: {payment} first, then {later}",
    },
    "plan_pay_once": {"zh": "一次性还 {payment}", "en": "one payment of {payment}"},
    "plan_pay_once_then": {
        "zh": "先一次性还 {payment}，之后每月 {later}照常",
        "en": "one payment of {payment}, then {later} a month as now",
    },
    "plan_pay_holiday_monthly": {
        "zh": "前 {months} 个月不用还，之后每月 {payment}",
        "en": "nothing to pay for {months} month(s), then {payment} a month",
    },
    "plan_pay_holiday_monthly_then": {
        "zh": "前 {months} 个月不用还，之后首期 {payment}，以后每月 {later}",
        "en": "nothing to pay for {months} month(s), then {payment} first and {later} a month after that",
    },
    "plan_dates": {"zh": "共 {count} 期，{first} 至 {last}", "en": "{count} payments, {first} to {last}"},
    "plan_dates_one": {"zh": "{first} 前还", "en": "by {first}"},
    "plan_count": {"zh": "{count} 期", "en": "{count}"},
    "plan_date_range": {"zh": "{first} 至 {last}", "en": "{first} to {last}"},
    "plan_change_month_less": {"zh": "每月少 {amount}", "en": "{amount} less a month"},
    "plan_change_month_more": {"zh": "每月多 {amount}", "en": "{amount} more a month"},
    "plan_change_month_same": {"zh": "每月不变", "en": "the same each month"},
    "plan_change_quarter_less": {"zh": "每季度少 {amount}", "en": "{amount} less a quarter"},
    "plan_change_quarter_more": {"zh": "每季度多 {amount}", "en": "{amount} more a quarter"},
    "plan_change_quarter_same": {"zh": "每季度不变", "en": "the same each quarter"},
    "plan_change_total_less": {"zh": "总共少 {amount}", "en": "{amount} less in total"},
    "plan_change_total_more": {"zh": "总共多 {amount}", "en": "{amount} more in total"},
    "plan_change_total_same": {"zh": "总额不变", "en": "the same in total"},
    "plan_change_sep": {"zh": "，", "en": ", "},
    "plan_card_payment": {"zh": "每期还款", "en": "Payment"},
    "plan_card_count": {"zh": "期数", "en": "Payments"},
    "plan_card_dates": {"zh": "时间", "en": "Dates"},
    "plan_card_total": {"zh": "共还", "en": "Total to repay"},
    "plan_card_change": {"zh": "比现在", "en": "Compared with today"},
    "plan_card_choose": {"zh": "选这个", "en": "Choose this"},
    "plan_summary_figures": {
        "zh": "您选择了「{plan}」：{figures}。前几期：{preview}",
        "en": "You chose the {plan}: {figures}. First payments: {preview}",
    },
    "plan_which": {
        "zh": "您说的好像不止一个方案，请问是哪个方案？可以点选下面的按钮或回复序号。",
        "en": "That sounds like more than one option; which option do you mean? Tap a button or reply with its number.",
    },
    "arrangement_terms": {
        "zh": "接受前请注意：{terms}",
        "en": "Before you accept, please note: {terms}",
    },
    "arrangement_terms_fallback": {
        "zh": "接受后请按新的计划按时还款。如果某一期到期后累计还款少于计划应还的金额，计划就会失效，贷款恢复按原合同计算，计划减免或暂缓的费用也会恢复。",
        "en": "Once you accept, please pay on the plan's schedule. If, after any due date, you have paid less in total than the plan asked for by then, the plan ends and the loan goes back to the original contract, with the charges the plan had waived or set aside.",
    },
    # ---- promises
    "promise_ask": {
        "zh": "好的。请问您打算哪天还多少钱？比如“下周五还 500”。",
        "en": "Sure. When and how much do you plan to pay? For example 'I'll pay 500 next Friday'.",
    },
    "promise_ask_amount": {
        "zh": "请问您打算还多少钱？",
        "en": "How much do you plan to pay?",
    },
    "promise_ask_date": {
        "zh": "请问您打算哪天还？",
        "en": "On which day do you plan to pay?",
    },
    "promise_ok": {
        "zh": "已记录：您承诺在 {date} 前还款 {amount}。谢谢！到时可以在 App 的还款页面支付。",
        "en": "Noted: you'll pay {amount} by {date}. Thank you! You can pay on the repayment page of the app.",
    },
    "promise_date_out_of_window": {
        "zh": "抱歉，这个日期我没法记录：还款承诺最晚只能到 {latest}。请在今天到 {latest} 之间选一天。",
        "en": "Sorry, I can't take that date: the latest date for a promise is {latest}. Could you choose a day from today to {latest}?",
    },
    "promise_date_out_of_window_plain": {
        "zh": "抱歉，这个日期超出了可以承诺的范围，请换一个更近的日期。",
        "en": "Sorry, that date is outside the window for a promise; could you choose an earlier date?",
    },
    "promise_amount_out_of_range": {
        "zh": "抱歉，承诺的金额需要大于 0，且不超过结清金额 {payoff}。",
        "en": "Sorry, the amount must be more than 0 and at most the payoff amount of {payoff}.",
    },
    "promise_open_promise_exists": {
        "zh": "您已经有一个进行中的还款承诺，等它完成后才能再新增。",
        "en": "You already have an open promise to pay; a new one can be made once it's settled.",
    },
    "promise_dispute_open": {
        "zh": "您的异议还在处理中，在此期间不能登记还款承诺，催收也已暂停。",
        "en": "Your dispute is still open, so promises can't be recorded and collection is paused.",
    },
    "promise_too_many_broken_promises": {
        "zh": "最近的几次还款承诺没有完成，我这边不能再登记新的承诺了。我可以请人工客服和您一起商量。",
        "en": "Several recent promises weren't kept, so I can't record a new one. A person can work out the next step with you.",
    },
    "promise_rejected": {
        "zh": "抱歉，这个还款承诺没有被接受。",
        "en": "Sorry, that promise couldn't be accepted.",
    },
    "promise_past_date": {
        "zh": "这个日期已经过去了，请给一个今天或以后的日期。",
        "en": "That date has passed; please give today or a later date.",
    },
    "promise_replaced": {
        "zh": "已为您修改还款承诺：原来是 {old_date} 前还 {old_amount}，现在改为 {date} 前还 {amount}。原来的承诺已被替换。",
        "en": "Done, your promise is changed: it was {old_amount} by {old_date}, it is now {amount} by {date}. The earlier promise is replaced.",
    },
    "promise_unchanged": {
        "zh": "您已有的还款承诺就是 {date} 前还 {amount}，没有变化。",
        "en": "That's the promise already on file: {amount} by {date}. Nothing has changed.",
    },
    "promise_change_ask": {
        "zh": "您已经有一个还款承诺：{date} 前还 {amount}。想改成哪天、还多少？比如“改到下周五”或“改成 500”。",
        "en": "You already have a promise: {amount} by {date}. What would you like to change it to? For example 'next Friday instead' or 'make it 500'.",
    },
    "promise_not_open": {
        "zh": "原来的还款承诺已经不在进行中了（已完成、已逾期或已被替换），所以没有修改。需要的话可以重新登记一个。",
        "en": "The earlier promise is no longer open (kept, missed or already replaced), so nothing was changed. You can make a new one if you like.",
    },
    # ---- payments
    "pay_how": {
        "zh": "您可以在 App 的“我的借款 - 还款”页面用银行卡或微信支付还款，也可以按借款合同上的对公账户转账（备注借款编号 {loan_number}）。",
        "en": "You can pay in the app under 'My loan - Repay' with a bank card or WeChat Pay, or by bank transfer to the account in your loan contract (quote loan number {loan_number}).",
    },
    "pay_bring_current": {
        "zh": "要把账户还到正常状态，需要还 {amount}。一次性结清全部借款需要 {payoff}。",
        "en": "To bring your account up to date, pay {amount}. To repay the whole loan, {payoff}.",
    },
    "pay_forgot": {
        "zh": "没关系，忘记还款的情况很常见。现在还上就好，不需要申请什么方案：",
        "en": "No problem, forgetting a due date happens. Paying now is all it takes; no plan is needed:",
    },
    "pay_forgot_more": {
        "zh": "如果其实是手头有困难，告诉我，我们再一起看看还款方案。",
        "en": "If money is actually tight, just tell me and we'll look at repayment plans together.",
    },
    "pay_nothing_overdue": {
        "zh": "您目前没有逾期金额。一次性结清全部借款需要 {payoff}。",
        "en": "Nothing is overdue right now. To repay the whole loan, {payoff}.",
    },
    "paid_now_current": {
        "zh": "现在您的账户已经没有逾期了，谢谢！",
        "en": "Your account is now up to date. Thank you!",
    },
    "paid_still_overdue": {
        "zh": "入账后账户还有 {amount} 逾期未还，还清这部分后账户就恢复正常。",
        "en": "After it, {amount} is still overdue; once that is paid the account is back to normal.",
    },
    # ---- payment claims and traces (actions/payments.py)
    "claim_ask_date": {
        "zh": "好的，我来帮您查。请问是哪天付的款？",
        "en": "Sure, I'll look for it. On which day did you pay?",
    },
    "claim_ask_amount": {
        "zh": "付了多少钱？",
        "en": "How much did you pay?",
    },
    "claim_ask_reference": {
        "zh": "转账凭证上有交易流水号（或参考号）吗？有的话请发给我，能帮我们更快找到这笔钱；没有也没关系，回复“没有”就行。",
        "en": "Does your transfer slip show a transaction or reference number? If so, please send it: it helps us find the money faster. If not, just say 'no'.",
    },
    "claim_need_day_or_amount": {
        "zh": "要查这笔还款，我至少需要付款日期或金额中的一个。您可以稍后再告诉我，或者让人工客服帮您核查。",
        "en": "To look for the payment I need at least the day or the amount. You can tell me later, or a person can check it with you.",
    },
    "claim_found": {
        "zh": "找到了：您的借款 {loan_number} 在 {date} 收到一笔 {amount}（{channel}）。",
        "en": "Found it: your loan {loan_number} received {amount} on {date} ({channel}).",
    },
    "claim_applied": {
        "zh": "这笔钱已入账，按规则先还最早逾期的一期（依次冲抵违约金、罚息、利息、本金）。",
        "en": "It has been applied, oldest overdue instalment first (late fee, then penalty interest, interest and principal).",
    },
    "claim_not_found": {
        "zh": "您的账户上目前还没有这笔还款：没有找到{what}的付款。",
        "en": "There is no such payment on your account yet: I can't find a payment {what}.",
    },
    "claim_what_amount": {"zh": "金额 {amount}", "en": "of {amount}"},
    "claim_what_date": {"zh": "{date}前后", "en": "around {date}"},
    "claim_what_range": {"zh": "{start}至{end}之间", "en": "between {start} and {end}"},
    "claim_what_reference": {"zh": "流水号 {reference}", "en": "with reference {reference}"},
    "claim_latest_payment": {
        "zh": "账户上最近的一笔还款是 {date} 的 {amount}。",
        "en": "The latest payment on your account is {amount} on {date}.",
    },
    "claim_no_payments": {
        "zh": "账户上最近没有任何还款记录。",
        "en": "There are no recent payments on your account.",
    },
    "trace_opened": {
        "zh": "我已为您登记了还款核查，案件号 {case_number}，我们会在 {reply_due_by} 前答复您。",
        "en": "I've opened a payment trace for you, case {case_number}. We'll reply by {reply_due_by}.",
    },
    "trace_meanwhile": {
        "zh": "说明一下：核查期间罚息和违约金照常计算，不会暂停。如果找到这笔钱，会按实际到账那天入账，费用也会从那天起重新计算。请保留好转账凭证。如果您想现在就先还上逾期的部分也可以：万一两笔都入了账，多出的部分会抵扣以后的还款，超过欠款的部分会退还给您。",
        "en": "To be clear: while we trace it, penalty interest and late fees keep being worked out as usual; the trace does not pause them. If the payment is found, it is recorded on the day it arrived and the charges are worked out again from that day. Please keep your transfer slip. If you'd rather bring the account up to date now, you can: should both payments arrive, the extra counts toward your next instalments, and anything beyond what you owe is refunded.",
    },
    "trace_not_opened": {
        "zh": "抱歉，还款核查这一步没有登记成功。人工客服可以直接帮您核查这笔钱，需要我为您转接吗？",
        "en": "Sorry, I couldn't open the payment trace. A person can check the payment with you directly. Shall I connect you?",
    },
    # ---- disputes
    "dispute_opened": {
        "zh": "已为您登记异议，案件号 {case_number}。我们会在 {reply_due_by} 前答复您，在此期间这笔借款的催收暂停。",
        "en": "I've opened a dispute for you, case number {case_number}. We'll reply by {reply_due_by}, and collection on this loan is paused until then.",
    },
    "dispute_exists": {
        "zh": "这笔借款已经有一个处理中的异议（案件号 {case_number}），我们会在 {reply_due_by} 前答复，催收已暂停。",
        "en": "There's already an open dispute for this loan (case {case_number}); we'll reply by {reply_due_by} and collection is paused.",
    },
    "dispute_exists_plain": {
        "zh": "这笔借款已经有一个处理中的异议，催收已暂停，我们会在登记时告知的答复日期前答复您。",
        "en": "There's already an open dispute for this loan; collection is paused and we'll reply by the date given when it was opened.",
    },
    # ---- withdrawing a dispute or complaint filed by mistake (actions/corrections.py)
    "withdraw_offer": {
        "zh": "如果是误操作，可以点下面的按钮撤回。",
        "en": "Filed this by mistake? You can withdraw it now.",
    },
    "dispute_withdrawn": {
        "zh": "已按您的要求撤回异议（案件号 {case_number}），记录会保留并标为“已撤回”。这笔借款恢复正常催收：可以再申请还款方案或登记还款承诺，提醒也会按您的联系偏好恢复。",
        "en": "Done: dispute {case_number} is withdrawn, as you asked. It stays on file, marked as withdrawn. Collection on this loan resumes: payment plans and promises are possible again, and reminders may resume within your contact preferences.",
    },
    "complaint_withdrawn": {
        "zh": "已按您的要求撤回投诉（编号 {complaint_id}），记录会保留并标为“已撤回”，不会再有人跟进。如果改变主意，随时告诉我。",
        "en": "Done: complaint {complaint_id} is withdrawn, as you asked. It stays on file, marked as withdrawn, and nobody will follow it up. If you change your mind, just tell me.",
    },
    "withdraw_nothing": {
        "zh": "我只能撤回在这次对话里登记的异议或投诉，这里没有可以撤回的记录，什么都没有改变。如果是之前登记的，可以由人工客服帮您处理。需要我为您转接吗？",
        "en": "I can only withdraw a dispute or complaint filed in this conversation, and there isn't one here, so nothing has changed. If you filed one earlier, a person can help you with it. Shall I connect you?",
    },
    "withdraw_not_open": {
        "zh": "这个{what}已经不在处理中了，不需要撤回，什么都没有改变。",
        "en": "That {what} is no longer open, so there's nothing to withdraw; nothing has changed.",
    },
    "withdraw_window_closed": {
        "zh": "这个{what}已经不能在对话里撤回了（只能在登记后不久、在登记它的那次对话里撤回），目前仍在处理中。人工客服可以帮您处理，需要我为您转接吗？",
        "en": "That {what} can't be withdrawn in the chat any more (only soon after filing, in the conversation that filed it), so it is still open. A person can help you with it. Shall I connect you?",
    },
    # ---- contact
    "contact_ask_channel": {
        "zh": "明白。您希望我们停止哪种方式的联系？",
        "en": "Understood. Which kind of contact should we stop?",
    },
    "contact_channel_not_used": {
        "zh": "我们不通过{unused}联系借款人，所以没法只用{unused}联系您；我们使用的方式是：{used}。您希望停止其中哪一种？也可以全部停止。",
        "en": "We don't use {unused} to contact borrowers, so we can't contact you by {unused} only; the ways we use are: {used}. Which of them should we stop? You can also stop them all.",
    },
    "contact_channel_not_used_note": {
        "zh": "另外，我们不通过{unused}联系借款人。",
        "en": "Also, we don't use {unused} to contact borrowers.",
    },
    "contact_done_all": {
        "zh": "已记录：我们不会再主动联系您。您随时可以主动找我们。",
        "en": "Done: we won't contact you again. You can still reach us whenever you want.",
    },
    "contact_done_channels": {
        "zh": "已记录：我们不会再通过{channels}联系您。",
        "en": "Done: we won't contact you by {channels} any more.",
    },
    # ---- complaints
    "complaint_recorded": {
        "zh": "非常抱歉给您带来不好的体验。您的投诉已登记（编号 {complaint_id}），会有专人跟进处理。",
        "en": "I'm sorry about your experience. Your complaint is recorded (reference {complaint_id}) and a person will follow it up.",
    },
    # ---- tips
    "tips_intro": {
        "zh": "一些可能有帮助的建议：",
        "en": "A few things that often help:",
    },
    "budget": {
        "zh": "按您提供的数字：月收入 {income}，基本开销 {expenses}，其他还款 {debts}，每月剩下 {left}。建议先留出一小笔应急钱，再安排还款。",
        "en": "With your figures: income {income} a month, essentials {expenses}, other debt payments {debts}, leaving {left}. Keep a small emergency buffer first, then plan repayments from the rest.",
    },
    "budget_short": {
        "zh": "按您提供的数字：月收入 {income}，基本开销 {expenses}，其他还款 {debts}，每月缺口 {gap}。这种情况建议尽快告诉我们，我们可以一起评估还款方案。",
        "en": "With your figures: income {income} a month, essentials {expenses}, other debt payments {debts}: a shortfall of {gap}. In that case please tell us early so we can look at a repayment plan together.",
    },
    "budget_ask": {
        "zh": "如果告诉我您的月收入和每月基本开销（比如“收入8000，开销5000”），我可以帮您做一个简单的预算。",
        "en": "If you tell me your monthly income and essential spending (e.g. 'income 8000, expenses 5000'), I can sketch a simple budget.",
    },
    # ---- misc
    "clarify": {
        "zh": "抱歉，我没太明白。您是想查询欠款、了解还款方式，还是申请还款方案？",
        "en": "Sorry, I didn't quite get that. Do you want to check what you owe, how to pay, or ask for a payment plan?",
    },
    "clarify_offer_human": {
        "zh": "抱歉，我还是没理解您的意思。要不要转接人工客服？",
        "en": "Sorry, I still didn't understand. Would you like to talk to a person?",
    },
    "language_switched": {
        "zh": "好的，接下来我用中文和您交流。",
        "en": "Sure, I'll continue in English.",
    },
    "ok_noted": {
        "zh": "好的。还有什么可以帮您？",
        "en": "OK. Is there anything else I can help with?",
    },
    "continue_question": {
        "zh": "现在回到您刚才的问题：",
        "en": "Now, back to your question:",
    },
    # ---- trust at the edges (issue 8)
    "something_went_wrong": {
        "zh": "抱歉，我这边出了点问题，没能处理您的消息。您可以稍后再试，或者让人工客服来帮您。",
        "en": "Something went wrong on my side, sorry: I couldn't handle your message. You can try again, or a person can help you.",
    },
    "complaint_handoff": {
        "zh": "抱歉，您的投诉暂时没能登记到系统里，我已把它转给人工客服，同事会在这里跟进。",
        "en": "Sorry, I couldn't record your complaint in our system just now, so I've passed it to a person; a colleague will follow up here.",
    },
    "escalated_pending": {
        "zh": "已为您转接人工客服，同事会尽快在这里回复您。",
        "en": "I've passed your conversation to a person; a colleague will reply here as soon as possible.",
    },
    "no_plans_pending": {
        "zh": "根据目前的情况，系统没有能直接提供的方案。我已经请专人审核您的情况，同事会尽快联系您。",
        "en": "There's no option I can offer directly right now, so I've asked a specialist to review your situation. A colleague will get back to you soon.",
    },
    "verify_locked_handoff": {
        "zh": "为了保护账户安全，连续多次核实失败后验证已暂时锁定，{until} 之后才能再试。我已为您转接人工客服，同事可以用其他方式核实您的身份并帮助您。",
        "en": "For your security, verification is locked after several unsuccessful attempts; you can try again after {until}. I've passed your conversation to a person, who can confirm who you are another way and help you.",
    },
    "verify_rate_limited": {
        "zh": "从这里提交的核实次数太多了，请稍后再试。如果需要，我可以为您转接人工客服。",
        "en": "There have been too many verification attempts from here; please try again later. I can also connect you with a person.",
    },
    "offer_accepted_terms": {
        "zh": "这个方案之前已经接受过了，已经生效，不需要再确认。{plan}：第一笔 {amount} 请在 {due_date} 前支付，共 {count} 期，共还 {total}。",
        "en": "That plan was already accepted and is in place; nothing more is needed. {plan}: the first payment of {amount} is due on {due_date}, {count} payment(s), {total} in total.",
    },
    # ---- consequential acts, refusals and questions with no answer (issue 9: actions/confirm.py)
    "confirm_dispute": {
        "zh": "确认一下：这会为借款 {loan_number} 登记一个异议。登记后这笔借款的催收会暂停，直到我们答复您（{reply_days} 天内）。要登记异议吗？",
        "en": "Just to check: this opens a dispute about loan {loan_number}. Collection on it pauses until we reply to you, within {reply_days} days. Open a dispute?",
    },
    "confirm_dispute_undated": {
        "zh": "确认一下：这会为借款 {loan_number} 登记一个异议。登记后这笔借款的催收会暂停，直到我们答复您（答复日期登记时告知）。要登记异议吗？",
        "en": "Just to check: this opens a dispute about loan {loan_number}. Collection on it pauses until we reply to you (the reply date comes with the case number). Open a dispute?",
    },
    "confirm_complaint": {
        "zh": "确认一下：这会把您说的登记为一条正式投诉，由专人跟进处理。要登记投诉吗？",
        "en": "Just to check: this files what you wrote as a formal complaint, which a person will follow up. File a complaint?",
    },
    "confirm_stop_all": {
        "zh": "确认一下：这会停止我们对您的所有主动联系（电话、短信、微信等都不会再有），您仍然可以随时主动找我们。要这样设置吗？",
        "en": "Just to check: this stops all contact from us (no calls, texts or messages of any kind); you can still reach us whenever you want. Shall I do that?",
    },
    "confirm_stop_channels": {
        "zh": "确认一下：这会停止通过{stopped}联系您；我们仍可能通过{kept}联系您。要这样设置吗？",
        "en": "Just to check: this stops contact by {stopped}; we may still contact you by {kept}. Shall I do that?",
    },
    "confirm_handoff": {
        "zh": "您是想让我为您转接人工客服吗？",
        "en": "Do you want me to pass you to a person?",
    },
    "declined_dispute": {
        "zh": "好的，没有登记异议。还有什么可以帮您？",
        "en": "OK, no dispute has been opened. Is there anything else I can help with?",
    },
    "declined_complaint": {
        "zh": "好的，没有登记投诉。还有什么可以帮您？",
        "en": "OK, no complaint has been filed. Is there anything else I can help with?",
    },
    "declined_stop_contact": {
        "zh": "好的，联系方式没有任何改动。还有什么可以帮您？",
        "en": "OK, nothing has changed in how we contact you. Is there anything else I can help with?",
    },
    "declined_handoff": {
        "zh": "好的，不转人工，我继续为您服务。您想查询欠款、了解还款方式，还是申请还款方案？",
        "en": "OK, no person: I'll keep helping you here. Do you want to check what you owe, how to pay, or ask for a payment plan?",
    },
    "noted_waiting": {
        "zh": "好的。还有其他需要，随时告诉我。",
        "en": "OK, noted. If there's anything else, just tell me.",
    },
    "contact_done_stored": {
        "zh": "已记录：我们不会再通过{stopped}联系您；仍可能通过{kept}联系您。",
        "en": "Done: we won't contact you by {stopped} any more; we may still contact you by {kept}.",
    },
    "plans_do_not_fit": {
        "zh": "明白，这些方案对您来说还是太难。可以请专人根据您的情况再人工审核一次。要转给专人审核吗？",
        "en": "I understand these plans don't work for you. A specialist can review your situation in person. Shall I pass it to them?",
    },
    "plans_declined_review": {
        "zh": "好的，没有接受任何方案。如果这些方案都不合适，可以请专人根据您的情况再人工审核一次。要转给专人审核吗？",
        "en": "OK, nothing has been accepted. If none of these plans works for you, a specialist can review your situation in person. Shall I pass it to them?",
    },
    "no_answer": {
        "zh": "这个问题我这里没有答案。人工客服可以为您解答，您也可以通过贷款机构的官方渠道（App 里的在线客服、借款合同上的客服电话）咨询。需要我为您转接人工吗？",
        "en": "I don't have the answer to that here. A person can answer it, or you can ask through the lender's official channels (customer service in the app, or the phone number in your loan contract). Shall I pass you to a person?",
    },
    "no_answer_in_form": {
        "zh": "这个问题我这里没有答案：人工客服可以为您解答（点下面的按钮），也可以通过贷款机构的官方渠道（App 里的在线客服、借款合同上的客服电话）咨询。我们也可以先继续：",
        "en": "I don't have the answer to that here: a person can answer it (tap below), or you can ask through the lender's official channels (customer service in the app, or the phone number in your loan contract). Or we can carry on:",
    },
    "dispute_none": {
        "zh": "这笔借款目前没有处理中的异议。如果您认为金额或借款有误，可以告诉我，或者让人工客服帮您。需要转接人工吗？",
        "en": "There's no open dispute on this loan. If you think the amount or the loan is wrong, tell me, or a person can help. Shall I pass you to one?",
    },
    "form_offer_human": {
        "zh": "如果这样不方便，也可以让人工客服来帮您。",
        "en": "If this isn't working, a person can help you instead.",
    },
    "refusal_offer_human": {
        "zh": "如果需要，人工客服可以和您一起看看接下来怎么办。要转接人工吗？",
        "en": "If you like, a person can go through the next steps with you. Shall I pass you to one?",
    },
    "group_chat_private": {
        "zh": "为了保护您的隐私，我不能在群聊里讨论账户或欠款。请私聊我，我会在那里帮您。",
        "en": "To protect your privacy I can't discuss accounts or debts in a group chat. Please message me privately and I'll help you there.",
    },
}

BUTTON_LABELS = {
    "yes": {"zh": "确认", "en": "Yes"},
    "no": {"zh": "不用了", "en": "No"},
    "human": {"zh": "转人工", "en": "Talk to a person"},
    "temporary": {"zh": "暂时的", "en": "Temporary"},
    "long_term": {"zh": "长期的", "en": "Long-term"},
    "all_channels": {"zh": "全部停止", "en": "Stop all contact"},
    "keep_contact": {"zh": "都不用停", "en": "None of them"},
    "yes_dispute": {"zh": "是，登记异议", "en": "Yes, open a dispute"},
    "yes_complaint": {"zh": "是，登记投诉", "en": "Yes, file a complaint"},
    "yes_stop_contact": {"zh": "是，就这样", "en": "Yes, do that"},
    "review": {"zh": "请专人审核", "en": "Ask for a review"},
    "withdraw": {"zh": "点错了，撤回", "en": "Filed by mistake: withdraw"},
    "loan_overdue": {"zh": "逾期", "en": "overdue"},
    "loan_current": {"zh": "未逾期", "en": "up to date"},
}

# Tips paraphrased from the Chinese articles the product grew from: why borrowers fall
# behind and what helps; flexible plans and talking to the lender early; financial planning
# and customer education; handling collection calls calmly.
TIPS = [
    {
        "zh": "先把每月的收入和必要开销（房租、吃饭、交通、医疗）列清楚，再看能拿出多少来还款。",
        "en": "Write down your monthly income and essential costs (rent, food, transport, health) first, then see what is left for repayments.",
    },
    {
        "zh": "有多笔欠款时，优先处理逾期时间长、罚息高的那一笔，避免费用越滚越多。",
        "en": "With several debts, deal first with the one that is furthest behind or charges the most penalty interest, so costs stop growing.",
    },
    {
        "zh": "遇到困难尽早告诉贷款机构：延长期限、调整还款频率（比如按季还）或减免部分费用，往往比拖着更划算。",
        "en": "Tell your lender early when things get hard: a longer term, a different payment frequency (such as quarterly) or reduced fees usually costs less than waiting.",
    },
    {
        "zh": "不要借新还旧，也不要在还款困难时再申请新的分期或网贷。",
        "en": "Avoid taking new loans or instalment plans to repay old ones while you are struggling.",
    },
    {
        "zh": "按时还款会逐步改善信用记录；设置还款提醒或自动扣款可以避免忘记。",
        "en": "Paying on time rebuilds your credit record step by step; reminders or automatic payments help you not to miss a date.",
    },
    {
        "zh": "只通过官方渠道还款和沟通，不要相信所谓“代还”“征信修复”之类的收费服务。",
        "en": "Pay and talk only through official channels; don't trust paid 'debt fixing' or 'credit repair' offers.",
    },
]


def fmt_money(value: Any, lang: str) -> str:
    """A contract money string (or Decimal) for display: '1,250.00 元' / 'CNY 1,250.00'."""
    amount = money(value) if not isinstance(value, Decimal) else value
    if amount is None:
        return "-"
    text = f"{amount:,.2f}"
    return f"{text} 元" if lang == "zh" else f"CNY {text}"


def fmt_date(value: Any, lang: str) -> str:
    """An ISO date (or date) for display: '2026年12月4日' / '4 Dec 2026'."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if not isinstance(value, date):
        return "-"
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {value.strftime('%b')} {value.year}"


def text(key: str, lang: str, **figures: Any) -> str:
    """The text `key` in `lang` (zh when unknown) with its figures filled in."""
    entry = T[key]
    return entry.get(lang if lang in LANGUAGES else "zh", entry["zh"]).format(**figures)


def name_of(table: dict[str, dict[str, str]], key: str, lang: str) -> str:
    entry = table.get(key)
    if entry is None:
        return key
    return entry.get(lang, entry["zh"])


def button(label_key: str, payload: str, lang: str) -> dict[str, str]:
    return {"title": name_of(BUTTON_LABELS, label_key, lang), "payload": payload}


def choice_payload(choice: str) -> str:
    """A button's payload that answers with `choice`: /inform with the entity `choice`."""
    return '/inform{"choice":"' + choice + '"}'
