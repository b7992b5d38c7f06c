"""Chinese and English: which one a visitor reads, and the Chinese for what the app says.

English is the source language: every message is written in English where it arises, and this
catalogue gives its Chinese, either for the exact text or for a pattern with the variable parts
(sizes, names, seconds) carried over. Anything the catalogue does not know stays English rather
than being guessed. Nothing here knows about Gradio: the page's fixed labels are in
:data:`UI_TEXT`, which the UI hands to ``gr.I18n``; everything the server writes at run time
goes through :func:`translate` with the language of the visitor's browser.
"""

from __future__ import annotations

import re

from .errors import TryOnError

Language = str  # "en" or "zh"
LANGUAGES: tuple[Language, ...] = ("en", "zh")


def language(accept_language: str | None) -> Language:
    """The visitor's language from an ``Accept-Language`` header: ``zh`` when Chinese is
    preferred over English, else ``en``."""
    best: tuple[float, Language] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary not in LANGUAGES or quality <= 0:
            continue
        rank = quality - position * 1e-6  # equal weights: the first listed wins
        if best is None or rank > best[0]:
            best = (rank, primary)
    return best[1] if best else "en"


# --- the catalogue -------------------------------------------------------------------------

#: Names of the images a message may start with.
_FIELDS: dict[str, str] = {
    "Person image": "人物图片",
    "Garment image": "服装图片",
    "Top garment": "上衣",
    "Bottom garment": "下装",
    "Top": "上衣",
    "Bottom": "下装",
}

_EXACT: dict[str, str] = {
    # Status labels
    "Preparing images": "正在准备图片",
    "Submitted: waiting in the queue": "已提交：排队等待中",
    "Processing: the model is dressing the person": "处理中：模型正在为人物换装",
    "Done": "完成",
    "Failed": "失败",
    "Could not run": "无法运行",
    "The API gave no reason.": "API 未说明原因。",
    "the API gave no reason": "API 未说明原因",
    "task": "任务",
    "Result URL": "结果地址",
    "(the built-in simulator's address, reachable only on the server: use the download button). "
    "The real API deletes results after about 30 days.": (
        "（内置模拟器的地址，只能在服务器上访问：请使用下载按钮。）真实 API 约 30 天后会删除结果。"
    ),
    "The API deletes results after about 30 days: download what you want to keep.": (
        "API 约 30 天后会删除结果：请下载想保留的图片。"
    ),
    # The API's business codes (errors._CODE_TABLE)
    "The API refused the key. Check KLING_API_KEY or the key you entered.": (
        "API 拒绝了该密钥。请检查 KLING_API_KEY 或您输入的密钥。"
    ),
    "No API key reached the API. Set KLING_API_KEY or enter a key.": (
        "API 未收到密钥。请设置 KLING_API_KEY 或输入密钥。"
    ),
    "The API key is not valid. Check that it was copied whole.": (
        "API 密钥无效。请检查是否完整复制。"
    ),
    "The API token is not valid yet. Check this computer's clock.": (
        "API 令牌尚未生效。请检查本机时钟。"
    ),
    "The API token has expired. Check this computer's clock, or renew the key.": (
        "API 令牌已过期。请检查本机时钟，或更新密钥。"
    ),
    "The API account is flagged as abnormal. Contact the provider.": (
        "API 账户被标记为异常。请联系服务商。"
    ),
    "The API account is in arrears. Top up the account, then try again.": (
        "API 账户已欠费。请充值后重试。"
    ),
    "The account's resource pack is used up or expired. Buy more credits, then try again.": (
        "账户资源包已用完或已过期。请购买额度后重试。"
    ),
    "This key may not use this model or resource. Pick another model or check the plan.": (
        "该密钥无权使用此模型或资源。请换一个模型或检查套餐。"
    ),
    "The API refused the request as invalid.": "API 认为请求无效并拒绝了它。",
    "The API refused a parameter. Check the images and the model.": (
        "API 拒绝了某个参数。请检查图片和模型。"
    ),
    "The API does not accept this method on this path. Check KLING_API_BASE.": (
        "API 不接受此路径上的该请求方法。请检查 KLING_API_BASE。"
    ),
    "No task with that id exists for this key.": "此密钥下不存在该任务 ID。",
    "The platform's policy refused these images. Try other pictures.": (
        "平台策略拒绝了这些图片。请换其他图片。"
    ),
    "The content-safety check refused these images. Try other pictures.": (
        "内容安全审核拒绝了这些图片。请换其他图片。"
    ),
    "Too many requests at once.": "同时请求过多。",
    "Too many tasks are running for this account's plan.": "当前账户套餐下运行中的任务过多。",
    "The API refused this computer's IP address (allow-list policy).": (
        "API 拒绝了本机的 IP 地址（白名单策略）。"
    ),
    "The API had an internal error.": "API 内部出错。",
    "The API is temporarily unavailable (maintenance).": "API 暂时不可用（维护中）。",
    "The API timed out internally. The task may have been created anyway: check the task list "
    "before trying again.": "API 内部超时。任务可能已经创建：重试前请先查看任务列表。",
    # Input the app judges itself
    "Enter a task id.": "请输入任务 ID。",
    "An outfit takes at most two pieces: a top and a bottom.": "一套搭配最多两件：一件上衣和一件下装。",
    "Lookbook: add at least one garment picture.": "造型集：请至少添加一张服装图片。",
    "Something went wrong inside the app. Try again; if it keeps happening, the details are in "
    "the server log.": "应用内部出错。请重试；如果反复出现，详情见服务器日志。",
    "Something went wrong inside the app for this garment.": "处理这件服装时应用内部出错。",
    "Following the task ended without a result.": "跟踪任务结束，但没有得到结果。",
    # Messages of the page itself
    "**Stopped waiting.** The task keeps running at the API.": (
        "**已停止等待。** 任务仍在 API 端继续运行。"
    ),
    "**Stopped.** Tasks already submitted keep running at the API.": (
        "**已停止。** 已提交的任务仍在 API 端继续运行。"
    ),
    "**Outfit composed**: both pieces are now the garment picture, and the model is v1.5 (the one "
    "that takes a top and a bottom). Press **Run try-on**.": (
        "**搭配已合成**：两件衣物已合成为服装图片，模型已切换为 v1.5（支持上衣 + 下装）。"
        "请点击 **开始试穿**。"
    ),
    "**Could not compose the outfit.**": "**无法合成搭配。**",
    "**Could not run the lookbook**": "**无法运行造型集**",
    "top": "上衣",
    "bottom": "下装",
    "one-piece": "连体服装",
    "Finished": "已结束",
    "queued": "排队中",
    "waiting (rate limit)": "等待中（限流）",
    "submitted": "已提交",
    "processing": "处理中",
    "done": "完成",
    "failed": "失败",
    "error": "出错",
}

_F = r"(?P<field>[^:]+)"
_PATTERNS: list[tuple[str, str]] = [
    (
        _F + r": nothing was given\. Upload a picture or paste an http\(s\) link\.",
        "{field}：未提供图片。请上传图片或粘贴 http(s) 链接。",
    ),
    (
        _F + r": it is (?P<w>\d+) x (?P<h>\d+) pixels; the API needs at least (?P<m>\d+) x \d+\. "
        r"Use a larger picture\.",
        "{field}：图片为 {w} x {h} 像素；API 要求至少 {m} x {m}。请使用更大的图片。",
    ),
    (
        _F + r": this file is not an image this app can read\. Use a JPG or PNG photo\.",
        "{field}：该文件不是本应用能读取的图片。请使用 JPG 或 PNG 照片。",
    ),
    (
        _F + r": the file is damaged or cut off \(truncated\) and cannot be decoded\. "
        r"Export or download it again\.",
        "{field}：文件已损坏或不完整（被截断），无法解码。请重新导出或下载。",
    ),
    (_F + r": the file is empty\.", "{field}：文件为空。"),
    (
        _F
        + r": the file is (?P<size>[\d.]+ MB); this app accepts files up to (?P<most>[\d.]+ MB)\. "
        r"Export a smaller copy and try again\.",
        "{field}：文件大小为 {size}；本应用最多接受 {most}。请导出较小的副本后重试。",
    ),
    (
        _F
        + r":(?P<claimed>.*) is larger than the (?P<mp>\d+) MP this app will decode; it may be a "
        r"decompression bomb\. Use a normal photo\.",
        "{field}：{claimed} 超过本应用可解码的 {mp} 百万像素，可能是解压炸弹。请使用普通照片。",
    ),
    (
        _F
        + r": only http:// and https:// links can be sent to the API, not (?P<scheme>\S+): links\. "
        r"Upload the file instead\.",
        "{field}：只能向 API 发送 http:// 或 https:// 链接，不能发送 {scheme}: 链接。请改为上传文件。",
    ),
    (_F + r": (?P<url>.+) is not a valid web address\.", "{field}：{url} 不是有效的网址。"),
    (_F + r": the link is longer than (?P<n>\d+) characters\.", "{field}：链接超过 {n} 个字符。"),
    (_F + r": only base64 data: URLs are supported\.", "{field}：仅支持 base64 编码的 data: URL。"),
    (
        _F + r": the data: URL does not hold valid base64\.",
        "{field}：data: URL 中不是有效的 base64。",
    ),
    (_F + r": file (?P<name>.+) was not found\.", "{field}：找不到文件 {name}。"),
    (
        _F + r": (?P<name>.+) is a folder, not an image file\.",
        "{field}：{name} 是文件夹，不是图片文件。",
    ),
    (_F + r": the upload arrived without a file\.", "{field}：上传内容中没有文件。"),
    (
        _F + r": give an uploaded image or an http\(s\) link, not (?P<text>.+)\.",
        "{field}：请提供上传的图片或 http(s) 链接，而不是 {text}。",
    ),
    (
        _F + r": it is the same picture as the person image\. Choose a photo of the garment on its "
        r"own\.",
        "{field}：与人物图片是同一张图。请选择单独拍摄服装的照片。",
    ),
    (
        _F + r" garment: the composer needs an uploaded picture, not a link\.",
        "{field}：合成需要上传的图片，不能使用链接。",
    ),
    (_F + r" garment: the picture is blank \(all white\)\.", "{field}：图片是空白的（全白）。"),
    (
        r"Outfit composer: add the (?P<piece>top|bottom) garment too\.",
        "搭配合成：还需要添加{piece}。",
    ),
    (
        r"(?P<pair>\S+ \+ \S+) is not a combination the model accepts: (?P<reason>.+)\. Combine one "
        r"top with one bottom, or send a single garment\.",
        "{pair} 不是模型接受的组合：{reason}。请搭配一件上衣和一件下装，或只发送一件服装。",
    ),
    (r"a one-piece garment is worn alone", "连体服装只能单独穿着"),
    (r"two (?P<kind>\w+)s cannot be worn together", "两件{kind}不能同时穿着"),
    (
        r"Lookbook: (?P<n>\d+) garments is more than this demo runs at once \((?P<most>\d+)\)\. "
        r"Remove some and run the rest afterwards\.",
        "造型集：{n} 件服装超过了本演示一次可运行的数量（{most}）。请先移除一部分，稍后再运行其余的。",
    ),
    (
        r"Rate limited; trying again in (?P<s>\d+) s \(attempt (?P<n>\d+)\)",
        "被限流；{s} 秒后重试（第 {n} 次）",
    ),
    (r"Try again in (?P<s>[\d.]+) s\.", "请在 {s} 秒后重试。"),
    (r"API says: (?P<text>.+)", "API 返回：{text}"),
    (
        r"The API answered with an error \(HTTP (?P<status>\d+), code (?P<code>\S+)\)\.",
        "API 返回错误（HTTP {status}，代码 {code}）。",
    ),
    (
        r"This demo has reached its limit of (?P<n>\d+) try-ons for today\. Try again tomorrow "
        r"\(UTC\), or enter your own API key under Advanced\.",
        "本演示今天已达到 {n} 次试穿的上限。请明天（UTC）再试，或在“高级”中填写您自己的 API 密钥。",
    ),
    (
        r"(?P<who>You have|Visitors have) started (?P<n>\d+) try-ons in the last (?P<s>[\d.]+) s, the "
        r"most this demo allows\. Try again in (?P<wait>\d+) s, or enter your own API key under "
        r"Advanced\.",
        "{who}在最近 {s} 秒内已发起 {n} 次试穿，达到本演示的上限。请在 {wait} 秒后重试，"
        "或在“高级”中填写您自己的 API 密钥。",
    ),
    (r"You have", "您"),
    (r"Visitors have", "所有访客"),
    (
        r"The API at (?P<host>\S+) (?P<what>.+?)\. The task may have been created anyway: check the "
        r"task list before submitting again\.",
        "位于 {host} 的 API {what}。任务可能已经创建：再次提交前请先查看任务列表。",
    ),
    (
        r"The API at (?P<host>\S+) (?P<what>.+?)\. Check the network connection and KLING_API_BASE, "
        r"then try again\.",
        "位于 {host} 的 API {what}。请检查网络连接和 KLING_API_BASE 后重试。",
    ),
    (r"did not answer within (?P<s>[\d.]+) s", "在 {s} 秒内没有应答"),
    (r"could not be reached within (?P<s>[\d.]+) s", "在 {s} 秒内无法连接"),
    (
        r"could not be reached \(connection refused or no network\)",
        "无法连接（连接被拒绝或没有网络）",
    ),
    (r"dropped the connection before answering", "在应答前断开了连接"),
    (
        r"Task (?P<id>\S+) was still (?P<status>\w+) after (?P<s>[\d.]+) s\. It may still finish: "
        r"query it again later with its task id\.",
        "任务 {id} 在 {s} 秒后仍为 {status}。它可能仍会完成：稍后用任务 ID 再次查询。",
    ),
    (r"Task (?P<id>\S+) failed: (?P<reason>.+)", "任务 {id} 失败：{reason}"),
    (r"The task failed: (?P<reason>.+)", "任务失败：{reason}"),
    (
        r"The result image of task (?P<id>\S+) could not be downloaded \((?P<why>\w+)\)\. It is still "
        r"at (?P<url>\S+) for about 30 days\.",
        "任务 {id} 的结果图片无法下载（{why}）。约 30 天内仍可在 {url} 获取。",
    ),
    (r"Garment (?P<name>.+)", "服装 {name}"),
    (r"Re-attach later with task id (?P<id>`[^`]+`)\.", "稍后可用任务 ID {id} 重新关联。"),
    # What preparation did to an image (the notes under the JSON panels)
    (r"already acceptable: sent byte for byte", "已符合要求：按原文件逐字节发送"),
    (
        r"sent as a link: the API downloads it \(jpg/png, <= 10 MB, >= 300 x 300\)",
        "以链接发送：由 API 下载（jpg/png，≤ 10 MB，≥ 300 x 300）",
    ),
    (
        r"converted (?P<fmt>\w+) to JPEG \(the API takes only JPG and PNG\)",
        "已将 {fmt} 转换为 JPEG（API 只接受 JPG 和 PNG）",
    ),
    (r"used the first frame of an animated image", "使用了动图的第一帧"),
    (r"turned upright from EXIF orientation (?P<o>\d+)", "已按 EXIF 方向 {o} 摆正"),
    (r"downscaled (?P<a>\d+ x \d+) to (?P<b>\d+ x \d+)", "已从 {a} 缩小到 {b}"),
    (
        r"downscaled (?P<a>\d+ x \d+) to (?P<b>\d+ x \d+) \(decoded at reduced size\)",
        "已从 {a} 缩小到 {b}（以较小尺寸解码）",
    ),
    (r"downscaled to (?P<b>\d+ x \d+) to stay under 10 MB", "已缩小到 {b}，以保持在 10 MB 以内"),
    (r"re-encoded as JPEG", "已重新编码为 JPEG"),
    (
        r"converted (?P<mode>\S+) \(high bit depth\) to 8-bit RGB",
        "已将 {mode}（高位深）转换为 8 位 RGB",
    ),
    (r"flattened transparency onto white", "已把透明部分铺在白底上"),
    (r"converted (?P<mode>\S+) to RGB", "已将 {mode} 转换为 RGB"),
    (r"(?P<n>\d+) of (?P<m>\d+) done", "已完成 {n}/{m}"),
    (r"(?P<n>\d+) failed", "{n} 个失败"),
    (r"(?P<n>\d+) could not run", "{n} 个无法运行"),
    (r"(?P<n>\d+) running", "{n} 个进行中"),
]
_COMPILED: list[tuple[re.Pattern[str], str]] = [
    (re.compile(pattern, re.S), template) for pattern, template in _PATTERNS if template
]
_SENTENCE = re.compile(r"(?<=[.!?)])\s+(?=[A-Z*])")


def translate(text: str, lang: Language) -> str:
    """``text`` in ``lang``: the catalogue's Chinese for ``zh``, unchanged for English or for
    anything the catalogue does not know."""
    if lang != "zh" or not text:
        return text
    found = _lookup(text)
    if found is not None:
        return found
    if " · " in text:  # a summary line: "3 of 5 done · 1 failed · 1 running"
        return " · ".join(translate(part, lang) for part in text.split(" · "))
    field, colon, rest = text.partition(": ")
    if colon and field in _FIELDS:  # a note: "Person image: downscaled ..., re-encoded as JPEG"
        actions = [_lookup(action) for action in rest.split(", ")]
        if all(actions):
            return f"{_FIELDS[field]}：{'；'.join(a for a in actions if a)}"
    # Messages are often a few sentences joined ("<advice> Try again in 2 s. API says: ...").
    # Each known message may itself be several sentences, so take the longest known run first.
    parts = _SENTENCE.split(text)
    if len(parts) == 1:
        return text
    out: list[str] = []
    start = 0
    while start < len(parts):
        for end in range(len(parts), start, -1):
            found = _lookup(" ".join(parts[start:end]))
            if found is not None:
                out.append(found)
                start = end
                break
        else:
            out.append(parts[start] + " ")
            start += 1
    return "".join(out).strip()


def _lookup(text: str) -> str | None:
    stripped = text.strip()
    if stripped in _EXACT:
        return _EXACT[stripped]
    if stripped in _FIELDS:
        return _FIELDS[stripped]
    for pattern, template in _COMPILED:
        match = pattern.fullmatch(stripped)
        if match:
            values = {
                name: _FIELDS.get(value) or _lookup(value) or value
                for name, value in match.groupdict().items()
            }
            return template.format(**values)
    return None


def error_text(error: TryOnError, lang: Language) -> str:
    """An error's message in ``lang``, with the API's request_id when there is one."""
    message = translate(error.message, lang)
    if error.request_id:
        label = "请求 ID" if lang == "zh" else "request_id"
        return f"{message} ({label}: {error.request_id})"
    return message


# --- the page's fixed texts, for gr.I18n ---------------------------------------------------

#: key -> (English, Chinese). Keys name the place on the page.
UI_TEXT: dict[str, tuple[str, str]] = {
    "subtitle": (
        "Pick a person and a garment, choose a model, press Run.",
        "选择人物和服装，挑选模型，点击开始。",
    ),
    "banner_offline": ("Offline demo: simulated results", "离线演示：模拟结果"),
    "banner_online": ("Connected to", "已连接到"),
    "step_person": ("### 1. Person", "### 1. 人物"),
    "step_garment": ("### 2. Garment", "### 2. 服装"),
    "step_run": ("### 3. Model and run", "### 3. 模型与运行"),
    "person_photo": ("Person photo", "人物照片"),
    "garment_photo": ("Garment photo", "服装照片"),
    "link": ("…or paste an image link", "…或粘贴图片链接"),
    "person_rules": (
        "JPG or PNG, up to 10 MB, at least 300 × 300 px. Full body, facing the camera.",
        "JPG 或 PNG，不超过 10 MB，至少 300 × 300 像素。全身、正面朝向镜头。",
    ),
    "garment_rules": (
        "JPG or PNG, up to 10 MB, at least 300 × 300 px. The garment alone on a plain light "
        "background.",
        "JPG 或 PNG，不超过 10 MB，至少 300 × 300 像素。单独的服装，纯色浅色背景。",
    ),
    "example_people": ("Example people", "示例人物"),
    "example_garments": ("Example garments", "示例服装"),
    "outfit": ("Outfit composer (v1.5): a top and a bottom", "搭配合成（v1.5）：上衣 + 下装"),
    "outfit_help": (
        "Photographed apart? Add both pieces; the app puts them on one white picture, as v1.5 "
        "expects, and uses it as the garment.",
        "分开拍摄的？添加两件衣物，应用会按 v1.5 的要求把它们合成到一张白底图片上，作为服装图片。",
    ),
    "first_piece": ("First piece", "第一件"),
    "second_piece": ("Second piece", "第二件"),
    "first_kind": ("First piece is a", "第一件是"),
    "second_kind": ("Second piece is a", "第二件是"),
    "compose": ("Compose outfit", "合成搭配"),
    "model": ("Model", "模型"),
    "model_info": (
        "v1 takes a single garment; v1.5 also takes a top and a bottom combined in one picture.",
        "v1 只接受单件服装；v1.5 还接受合成在一张图里的上衣和下装。",
    ),
    "advanced": ("Advanced", "高级"),
    "callback": ("Callback URL (optional)", "回调地址（可选）"),
    "callback_info": (
        "The API posts every status change there.",
        "API 会把每次状态变化推送到这里。",
    ),
    "own_key": ("Your own API key (optional)", "您自己的 API 密钥（可选）"),
    "own_key_info": (
        "Used for your requests only. Never shown, logged or stored.",
        "仅用于您的请求。不会显示、记录或保存。",
    ),
    "seed_links": ("Use the API documentation's example links", "使用 API 文档中的示例链接"),
    "run": ("Run try-on", "开始试穿"),
    "cancel": ("Cancel", "取消"),
    "ready": (
        "Ready: choose a person and a garment, then press **Run try-on**.",
        "准备就绪：选择人物和服装，然后点击 **开始试穿**。",
    ),
    "tab_result": ("Result", "结果"),
    "result": ("Try-on result", "试穿结果"),
    "tab_before_after": ("Before / after", "前后对比"),
    "tab_compare": ("Compare models", "模型对比"),
    "compare_run": (
        "Run these pictures on v1 and v1.5 side by side",
        "用 v1 和 v1.5 分别运行这组图片并排对比",
    ),
    "tab_lookbook": ("Lookbook", "造型集"),
    "lookbook_help": (
        "The person above in many garments: add garment pictures, then run them all. A few run "
        "at the API at once; the rest wait their turn.",
        "让上面的人物试穿多件服装：添加服装图片，然后全部运行。每次有几件同时在 API 运行，其余依次等待。",
    ),
    "garments": ("Garments", "服装"),
    "lookbook_run": ("Run lookbook", "运行造型集"),
    "stop": ("Stop", "停止"),
    "results": ("Results", "结果"),
    "lookbook_zip": ("Download all results (zip with manifest)", "下载全部结果（含清单的 zip）"),
    "download": ("Download full-resolution result", "下载全分辨率结果"),
    "request_json": (
        "Request sent to the API (images shortened)",
        "发送给 API 的请求（图片已缩略）",
    ),
    "task_json": ("Task JSON from the API", "API 返回的任务 JSON"),
    "history": ("Session history", "会话历史"),
    "history_gallery": ("Tasks in this browser session", "本浏览器会话中的任务"),
    "task_id": ("Task id", "任务 ID"),
    "task_id_placeholder": ("Re-attach to a task submitted earlier", "重新关联之前提交的任务"),
    "attach": ("Check task", "查询任务"),
}

#: The lookbook table's column headers.
TABLE_HEADERS: dict[Language, tuple[str, ...]] = {
    "en": ("#", "Garment", "Status", "Task id", "Note"),
    "zh": ("#", "服装", "状态", "任务 ID", "备注"),
}


def ui_translations() -> dict[str, dict[str, str]]:
    """:data:`UI_TEXT` as ``gr.I18n`` takes it: one dictionary per language."""
    english = {key: en for key, (en, _) in UI_TEXT.items()}
    chinese = {key: zh for key, (_, zh) in UI_TEXT.items()}
    # Browsers say zh-CN, zh-TW, ...; Gradio matches the full tag, so name the common ones.
    return {"en": english, "zh": chinese, "zh-CN": chinese, "zh-TW": chinese, "zh-HK": chinese}
