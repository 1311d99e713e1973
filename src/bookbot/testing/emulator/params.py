"""Reading a Bot API request: query string plus a JSON, urlencoded or multipart body.

Form bodies carry everything as strings, so known integer and boolean fields are
coerced, and fields that hold JSON objects (such as ``reply_markup``) are decoded.
"""

from __future__ import annotations

import json
import mimetypes
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from .chats import StoredFile
from .errors import bad_request

# Parameters that carry JSON objects/arrays; form bodies send them JSON-encoded.
_JSON_FIELDS = frozenset(
    "reply_markup scope commands entities caption_entities allowed_updates "
    "menu_button link_preview_options reply_parameters media message_ids prices".split()
)
_INT_FIELDS = frozenset(
    "chat_id message_id offset limit timeout cache_time max_connections user_id "
    "from_chat_id message_thread_id reply_to_message_id".split()
)
_BOOL_FIELDS = frozenset(
    "show_alert disable_notification protect_content drop_pending_updates "
    "allow_sending_without_reply disable_web_page_preview "
    "disable_content_type_detection allow_paid_broadcast ok".split()
)


async def read_params(request: Request) -> tuple[dict[str, Any], dict[str, StoredFile]]:
    """Decode query string plus JSON, urlencoded or multipart body into params and files."""
    params: dict[str, Any] = dict(request.query_params)
    files: dict[str, StoredFile] = {}
    content_type = request.headers.get("content-type", "")
    if request.method == "POST":
        if content_type.startswith("application/json"):
            raw = await request.body()
            if raw.strip():
                try:
                    data = json.loads(raw)
                except ValueError:
                    raise bad_request("can't parse JSON request body") from None
                if not isinstance(data, dict):
                    raise bad_request("JSON request body must be an object")
                params.update(data)
        elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            async with request.form(max_part_size=50 * 1024 * 1024) as form:
                for key, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        files[key] = StoredFile(
                            file_id="",
                            file_unique_id="",
                            filename=value.filename,
                            mime_type=value.content_type
                            or mimetypes.guess_type(value.filename or "")[0],
                            data=await value.read(),
                            file_path="",
                        )
                    else:
                        params[key] = value
    return _normalize(params), files


def _normalize(params: dict[str, Any]) -> dict[str, Any]:
    """Decode JSON-encoded fields and coerce known integer and boolean fields."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in _JSON_FIELDS:
                try:
                    value = json.loads(value)
                except ValueError:
                    what = "reply keyboard markup" if key == "reply_markup" else key
                    raise bad_request(f"can't parse {what} JSON object") from None
            elif key in _INT_FIELDS:
                value = _as_number(value)
            elif key in _BOOL_FIELDS:
                value = value.strip().lower() in ("true", "1")
        out[key] = value
    return out


def _as_number(value: str) -> Any:
    """A form field as an int, else a float, else the string it was."""
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def as_int(value: Any, default: int) -> int:
    """An integer parameter, ``default`` when absent; 400 when it is no integer."""
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid integer value {value!r}") from None
