"""The gateway's own words to borrowers (system messages), in both languages."""

from __future__ import annotations

TEXTS = {
    "agent_joining": {
        "zh": "正在为您转接人工客服，请稍候，客服人员马上就到。",
        "en": "A member of our team is joining this chat now. Please stay with us.",
    },
    "desk_closed": {
        "zh": "人工客服的服务时间是{hours}，现在不在服务时间内。您的请求已登记，客服会在{when}起尽快在这里回复您。",
        "en": "Our team works {hours} and is not available right now. Your request is queued: "
        "a member of our team will reply here from {when}.",
    },
    "desk_offline": {
        "zh": "目前没有人工客服在线。您的请求已登记，客服上线后会在这里回复您，不会遗漏。",
        "en": "No member of our team is online right now. Your request is queued: a person will reply here "
        "as soon as one is back, and nothing you wrote is lost.",
    },
    "desk_unstaffed": {
        "zh": "目前没有客服人员在线。您的请求已登记，客服会尽快在这里回复您。服务时间：{hours}。",
        "en": "No member of our team is free right now. Your request is queued and someone will reply here "
        "as soon as possible (our hours: {hours}).",
    },
    "slow_down": {
        "zh": "您发送消息的速度太快了，请稍等一分钟再发送。刚才过快发送的消息没有被处理。",
        "en": "You are sending messages too fast: please slow down and wait a minute. "
        "The messages sent too quickly were not read.",
    },
    "agent_joined": {
        "zh": "客服 {name} 已加入对话。",
        "en": "{name} from our team has joined the chat.",
    },
    "handback": {
        "zh": "人工客服已结束接待，接下来由智能助手继续为您服务。",
        "en": "Our team member has handed you back to the assistant, who will continue from here.",
    },
    "handback_note": {
        "zh": "客服备注：{note}",
        "en": "Note from our team: {note}",
    },
    "closed": {
        "zh": "本次对话已结束。如需帮助，随时给我们发消息。",
        "en": "This conversation is closed. Message us any time if you need help.",
    },
    "bot_unavailable": {
        "zh": "抱歉，智能助手暂时无法回复。您可以稍后再试，或输入“转人工”联系客服。",
        "en": 'Sorry, the assistant cannot answer right now. Please try again shortly, or type "agent" to reach a person.',
    },
    "bot_no_answer": {
        "zh": "抱歉，系统出了点问题，智能助手这次没能回复。请再试一次，或输入“转人工”联系客服。",
        "en": 'Sorry, something went wrong on our side and the assistant could not answer. Please try again, or type "agent" to reach a person.',
    },
    "stop_recorded": {
        "zh": "已为您退订此渠道的还款提醒。",
        "en": "You will receive no more repayment reminders on this channel.",
    },
    "bot_still_working": {
        "zh": "智能助手还在处理您的消息，请稍等，马上回复您。",
        "en": "The assistant is still working on your message. Please wait a moment.",
    },
    "bot_timed_out": {
        "zh": "抱歉，智能助手没能及时完成回复。您刚才的消息可能已经处理，请再问一次查看结果，或输入“转人工”联系客服。",
        "en": 'Sorry, the assistant did not finish answering in time. Your last message may still have been handled: ask again to see where things stand, or type "agent" to reach a person.',
    },
    "queue_position": {
        "zh": "您目前排在第{position}位，客服接入后会在这里回复您。",
        "en": "You are number {position} in the queue. A member of our team will reply here when it is your turn.",
    },
    "unsupported_message": {
        "zh": "目前只能处理文字消息，请用文字描述您的问题。",
        "en": "I can only read text messages for now. Please type your question.",
    },
}


def text(key: str, language: str, **values: str) -> str:
    lang = language if language in ("zh", "en") else "zh"
    return TEXTS[key][lang].format(**values)
