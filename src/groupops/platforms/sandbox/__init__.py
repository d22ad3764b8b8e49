"""The built-in sandbox platform: chats, people and a bot, all in groupops' own database."""

from groupops.platforms.sandbox.adapter import SANDBOX_CAPABILITIES, SandboxAdapter
from groupops.platforms.sandbox.platform import SandboxPlatform, SandboxRefused

__all__ = ["SANDBOX_CAPABILITIES", "SandboxAdapter", "SandboxPlatform", "SandboxRefused"]
