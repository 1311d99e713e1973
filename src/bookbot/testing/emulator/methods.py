"""The table of Bot API methods the emulator serves, and the few that need no state of their own.

Each group of methods lives with what it touches (messages.py, updates.py, menus.py);
this table names them all, in Telegram's spelling, so the server can dispatch by name.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from .chats import StoredFile
from .menus import MenuMethods
from .messages import MessageMethods
from .payments import PaymentMethods
from .places import PlaceMethods
from .state import Handler
from .updates import UpdateMethods


class BotApiMethods(PlaceMethods, MessageMethods, UpdateMethods, MenuMethods, PaymentMethods):
    """Every Bot API method the emulator serves, by name."""

    def _method_table(self) -> dict[str, Handler]:
        """Each method's name, as Telegram spells it, and its handler."""
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendVenue": self._send_venue,
            "getFile": self._get_file,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getChat": self._get_chat,
            "sendInvoice": self._send_invoice,
            "answerPreCheckoutQuery": self._answer_pre_checkout_query,
            "refundStarPayment": self._refund_star_payment,
            "close": self._always_true,
            "logOut": self._always_true,
        }

    async def _always_true(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        """close and logOut: nothing to do here, so they succeed."""
        return True

    async def _get_me(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        """getMe: the bot's own User, with its capabilities."""
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_chat(self, p: dict[str, Any], f: dict[str, StoredFile], r: Request) -> Any:
        """getChat: the ChatFullInfo of a user's private chat."""
        chat = self._chat_for(p, "getChat")
        return {
            **chat.user.chat_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }
