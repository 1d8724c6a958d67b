"""Print the runtime requirements (and those of the named extras) from setup.cfg, one a line.

The Containerfile installs them in a layer of their own, so that layer is rebuilt only when
setup.cfg changes, not on every change to the source.
"""

from __future__ import annotations

import configparser
import sys


def requirements(setup_cfg: str, extras: list[str]) -> list[str]:
    """Return `install_requires` plus the requirements of `extras`, as setup.cfg lists them."""
    config = configparser.ConfigParser()
    if not config.read(setup_cfg):
        raise SystemExit(f"cannot read {setup_cfg}")
    wanted = [config["options"]["install_requires"]]
    for extra in extras:
        try:
            wanted.append(config["options.extras_require"][extra])
        except KeyError:
            raise SystemExit(f"setup.cfg has no extra named {extra!r}") from None
    return [line.strip() for block in wanted for line in block.splitlines() if line.strip()]


if __name__ == "__main__":
    setup_cfg, *names = sys.argv[1:] or ["setup.cfg"]
    extras = [name for arg in names for name in arg.replace(",", " ").split()]
    print("\n".join(requirements(setup_cfg, extras)))
