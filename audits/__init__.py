"""How a release is attacked and measured: linkage attack, uniqueness, utility.

Depends on ``publisher.ratings`` (and ``publisher.errors``) only; never on ``policies``.
"""

__all__: list[str] = []
