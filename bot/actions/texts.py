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
REASON_NAMES = {
    "job_loss": {"zh": "失业", "en": "job loss"},
    "illness": {"zh": "生病或受伤", "en": "illness or injury"},
    "income_drop": {"zh": "收入下降", "en": "a drop in income"},
    "business_failure": {"zh": "生意困难", "en": "business difficulties"},
    "family_emergency": {"zh": "家庭变故", "en": "a family emergency"},
    "irregular_income": {"zh": "收入不固定", "en": "irregular income"},
    "other": {"zh": "其他困难", "en": "another difficulty"},
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
        "zh": "已为您转接人工客服（编号 {escalation_id}），同事会尽快在这里回复您。",
        "en": "I've passed your conversation to a person (reference {escalation_id}); a colleague will reply here as soon as possible.",
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
        "zh": "好的，我们先不继续评估。您随时可以再来找我。",
        "en": "OK, we'll stop the assessment here. You can come back to it any time.",
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
        "zh": "根据目前的情况，系统没有能直接提供的方案。我已经请专人审核您的情况（编号 {escalation_id}），同事会尽快联系您。",
        "en": "There's no option I can offer directly right now, so I've asked a specialist to review your situation (reference {escalation_id}). A colleague will get back to you soon.",
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
        "zh": "抱歉，还款承诺的日期需要在今天到 {max_days} 天以内。请换一个更近的日期。",
        "en": "Sorry, a promise needs a date between today and {max_days} days from now. Could you choose an earlier date?",
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
    # ---- payments
    "pay_how": {
        "zh": "您可以在 App 的“我的借款 - 还款”页面用银行卡或微信支付还款，也可以按借款合同上的对公账户转账（备注借款编号 {loan_number}）。",
        "en": "You can pay in the app under 'My loan - Repay' with a bank card or WeChat Pay, or by bank transfer to the account in your loan contract (quote loan number {loan_number}).",
    },
    "pay_bring_current": {
        "zh": "要把账户还到正常状态，需要还 {amount}。一次性结清全部借款需要 {payoff}。",
        "en": "To bring your account up to date, pay {amount}. To repay the whole loan, {payoff}.",
    },
    "pay_nothing_overdue": {
        "zh": "您目前没有逾期金额。一次性结清全部借款需要 {payoff}。",
        "en": "Nothing is overdue right now. To repay the whole loan, {payoff}.",
    },
    "paid_seen": {
        "zh": "我看到了您的还款：{amount}（{date}，{channel}）。",
        "en": "I can see your payment of {amount} on {date} ({channel}).",
    },
    "paid_now_current": {
        "zh": "现在您的账户已经没有逾期了，谢谢！",
        "en": "Your account is now up to date. Thank you!",
    },
    "paid_still_overdue": {
        "zh": "入账后账户还有 {amount} 逾期未还，还清这部分后账户就恢复正常。",
        "en": "After it, {amount} is still overdue; once that is paid the account is back to normal.",
    },
    "paid_none_seen": {
        "zh": "我暂时还没看到您最近的还款记录。银行转账通常需要 1 到 2 个工作日到账，到账后会自动入账。如果您已经有付款凭证，可以让人工客服帮您核查。",
        "en": "I can't see a recent payment yet. Bank transfers usually take 1-2 working days to arrive and are applied automatically. If you have a receipt, a person can check it for you.",
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
        "zh": "这笔借款已经有一个处理中的异议，催收已暂停，我们会在 15 天内答复。",
        "en": "There's already an open dispute for this loan; collection is paused and we'll reply within 15 days.",
    },
    # ---- contact
    "contact_ask_channel": {
        "zh": "明白。您希望我们停止哪种方式的联系？",
        "en": "Understood. Which kind of contact should we stop?",
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
    "out_of_scope": {
        "zh": "抱歉，这个问题我帮不上忙。我可以帮您查询欠款、了解还款方式、申请还款方案或转接人工。",
        "en": "Sorry, I can't help with that. I can check what you owe, explain how to pay, set up a payment plan or connect you with a person.",
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
